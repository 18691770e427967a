"""`tutor chat COURSE_ID`: a terminal client that streams the tutor's answers and lists their citations."""

from __future__ import annotations

import json

import httpx
from rich.console import Console

console = Console()


def stream_turn(client: httpx.Client, course_id: int, message: str, session_id: str | None) -> str | None:
    body = {"course_id": course_id, "message": message, "session_id": session_id}
    citations: list[dict[str, object]] = []
    with client.stream("POST", "/api/chat/stream", json=body) as response:
        if response.status_code != 200:
            response.read()
            error = response.json().get("error", {})
            console.print(f"[red]{error.get('code')}: {error.get('message')}[/red]")
            return session_id
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
                if event == "meta":
                    session_id = data["session_id"]
                elif event == "token":
                    console.print(data["text"], end="", markup=False, highlight=False)
                elif event == "citation":
                    citations.append(data)
                elif event == "quiz_question":
                    pass  # the question also arrives as text tokens
                elif event == "error":
                    console.print(f"\n[red]{data['code']}: {data['message']}[/red]")
    console.print()
    for c in citations:
        pages = c["page_start"] if c["page_start"] == c["page_end"] else f"{c['page_start']}-{c['page_end']}"
        console.print(f"  [dim][{c['number']}] {c['filename']}, p. {pages} — {c['topic_title']}[/dim]")
    return session_id


def run_chat(api_url: str, token: str, course_id: int, session_id: str | None = None) -> int:
    console.print(f"Chatting with course {course_id}. Ask anything; “quiz me on week 1” starts a quiz. Ctrl-D quits.")
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        while True:
            try:
                message = console.input("[bold]you>[/bold] ").strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                return 0
            if not message:
                continue
            console.print("[bold]tutor>[/bold] ", end="")
            try:
                session_id = stream_turn(client, course_id, message, session_id)
            except httpx.HTTPError as exc:
                console.print(f"[red]cannot reach {api_url}: {exc}[/red]")
                return 2
