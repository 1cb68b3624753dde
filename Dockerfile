# LLM Explorer, hosted: CPU-only torch, non-root user, hosted-mode limits on (lessons/hosting/limits.py),
# uploads capped at 32 MB by Streamlit itself (the largest hosted checkpoint).
#   docker build -t llm-explorer .
#   docker run -p 8501:8501 llm-explorer        # then open http://localhost:8501
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LLM_EXPLORER_HOSTED=1 \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=32 \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none \
    OMP_NUM_THREADS=1

RUN useradd --create-home --uid 1000 explorer
WORKDIR /home/explorer/app

# CPU-only torch first (the default PyPI build for Linux bundles CUDA, ~10x larger)
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY lessons ./lessons
RUN pip install .
COPY app ./app
COPY .streamlit ./.streamlit

# the learners' work store when LLM_EXPLORER_STORE points here (docker-compose.yml mounts a
# shared volume on it; a new volume takes this folder's owner: the user below, uid 1000)
RUN install -d -o 1000 -g 1000 store

USER explorer
EXPOSE 8501
# healthy once warm: app/serve.py shows every page once first (about half a minute on one core;
# /_stcore/health answers 503 "warming up" meanwhile)
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"
CMD ["streamlit", "run", "app/serve.py", "--server.port=8501", "--server.address=0.0.0.0"]
