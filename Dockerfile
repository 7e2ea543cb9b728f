# One image for all four services and the `carepath` command; the service is the argument:
#   docker run carepath services.referral
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY shared shared
COPY services services
COPY tools tools
RUN pip install . && useradd --system --uid 10001 carepath
USER carepath
ENV CAREPATH_HEARTBEAT_FILE=/tmp/carepath.heartbeat
ENTRYPOINT ["python", "-m"]
