# kalab live in a container: a static binary (no cgo: the SQLite driver is pure Go)
# on a distroless base, running as a non-root user, with the account store on a
# volume. See the README, "Run it on your account".
#
#   docker build -t kalab .
#   docker run -it --rm -v kalab-data:/data kalab          # first run: scan the QR code
#   docker run -d --restart unless-stopped -v kalab-data:/data kalab
#
# The HEALTHCHECK runs inside the container, so it reaches the default loopback
# listener (127.0.0.1:9464). Probes from outside the container (Prometheus,
# Kubernetes, EasyPanel) need: --listen 0.0.0.0:9464 --allow-remote-listen

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kalab ./cmd/kalab \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kalab /usr/local/bin/kalab
# A fresh named volume takes this directory's owner: the nonroot user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/kalab", "healthcheck", "--url", "http://127.0.0.1:9464/healthz"]
ENTRYPOINT ["/usr/local/bin/kalab", "live"]
CMD ["--db", "/data/kalab.db", "--log-format", "json"]
