"""Any OpenAI-compatible embeddings endpoint."""

from __future__ import annotations


class OpenAIEmbedder:
    def __init__(self, model: str, base_url: str | None, api_key: str | None, dimension: int | None = None) -> None:
        from openai import OpenAI

        self.name = model
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed")
        self.dimension = dimension or len(self.embed_query("dimension probe"))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), 256):
            response = self._client.embeddings.create(model=self.name, input=texts[start : start + 256])
            out += [list(d.embedding) for d in sorted(response.data, key=lambda d: d.index)]
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
