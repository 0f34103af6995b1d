package live

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kalab-dev/kalab/keepalive"
)

// handler serves /healthz, /readyz, /sessions (the engine's) and /metrics (the
// runner's own Prometheus registry: the engine's collectors, the runner's, Go and
// process collectors).
func (r *Runner) handler(eng *keepalive.Engine) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", eng.Handler(keepalive.HandlerOptions{ReadyFraction: r.opts.ReadyFraction}))
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	return mux
}
