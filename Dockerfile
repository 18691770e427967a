FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# CPU-only torch first: a bare `torch` requirement would pull several GB of CUDA wheels.
# Pass --build-arg TORCH_INDEX=<PyTorch's CPU wheel index> for a lean image.
ARG TORCH_INDEX=""
RUN pip install torch==2.13.0 ${TORCH_INDEX:+--index-url $TORCH_INDEX}
COPY pyproject.toml README.md alembic.ini ./
COPY tutor tutor
COPY ingestion ingestion
COPY api api
COPY db db
COPY migrations migrations
RUN pip install .
EXPOSE 8000
CMD ["tutor", "api"]
