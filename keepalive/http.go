package keepalive

import (
	"encoding/json"
	"math"
	"net/http"
)

// HandlerOptions configures Engine.Handler.
type HandlerOptions struct {
	// ReadyFraction is the fraction of registered sessions that must be connected
	// for /readyz to answer 200, in (0, 1]. Default (0): 1, every session. An
	// engine with no session is never ready.
	ReadyFraction float64
}

// Readiness is the body of /readyz.
type Readiness struct {
	// Ready is whether at least Required of Total sessions are connected.
	Ready bool `json:"ready"`
	// Connected counts the sessions in state connected.
	Connected int `json:"connected"`
	// Required is how many connected sessions make the engine ready.
	Required int `json:"required"`
	// Total counts the registered sessions.
	Total int `json:"total"`
	// States counts the sessions by state name ("connected", "reconnecting", …).
	States map[string]int `json:"states"`
}

// Readiness computes /readyz's answer for the fraction f (0 means 1).
func (e *Engine) Readiness(f float64) Readiness {
	if f <= 0 || f > 1 {
		f = 1
	}
	c := e.StateCounts()
	r := Readiness{States: make(map[string]int, len(c))}
	for s, n := range c {
		r.States[State(s).String()] = n
		r.Total += n
	}
	r.Connected = c[StateConnected]
	r.Required = max(1, int(math.Ceil(f*float64(r.Total)-1e-9)))
	r.Ready = r.Total > 0 && r.Connected >= r.Required
	return r
}

// Handler serves the engine's health over HTTP:
//
//	GET /healthz   200 "ok": the process is alive
//	GET /readyz    200 or 503 with a Readiness JSON body (see HandlerOptions)
//	GET /sessions  200 with a JSON array of SessionHealth, sorted by ID
//
// Mount it on a loopback listener unless the operator asks otherwise.
func (e *Engine) Handler(opts HandlerOptions) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		r := e.Readiness(opts.ReadyFraction)
		code := http.StatusOK
		if !r.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, r)
	})
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, e.Snapshot())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "keepalive: encode health: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
