package mockwa

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"go.mau.fi/whatsmeow/types"
)

// The loopback HTTP API (JSON), served beside /ws/chat:
//
//	GET  /api/stats                 server-wide Stats plus Go runtime memory
//	GET  /api/root                  root public key (hex, base64)
//	GET  /api/sessions              every session: JID, connected, counters
//	GET  /api/sessions/{jid}        one session with its event log and inbound items
//	POST /api/inject   {"jid":…, "kind":…, "reason":…}
//	POST /api/inbound  {"jid":…, "count":N}
//	POST /scan         body: the QR text (or {"qr":"…"}) → {"jid":…}
//
// Requests from non-loopback peers get 403 even when the server allows remote
// WebSocket clients.

// SessionView is the JSON form of a session.
type SessionView struct {
	// JID is the device JID ("user:device@s.whatsapp.net").
	JID string `json:"jid"`
	// Connected: the device has a logged-in connection.
	Connected bool `json:"connected"`
	// Removed: the server removed or logged the device out.
	Removed bool `json:"removed"`
	// Counters are the session's counters.
	Counters Counters `json:"counters"`
	// Log and Inbound are filled for /api/sessions/{jid} only.
	Log     []LogEntry `json:"log,omitempty"`
	Inbound []Inbound  `json:"inbound,omitempty"`
}

// MemStats is the part of the Go runtime's memory statistics the API reports
// (bytes).
type MemStats struct {
	// HeapInuse, HeapAlloc and Sys are runtime.MemStats fields, in bytes.
	HeapInuse uint64 `json:"heap_inuse"`
	HeapAlloc uint64 `json:"heap_alloc"`
	Sys       uint64 `json:"sys"`
	// Goroutines is runtime.NumGoroutine().
	Goroutines int `json:"goroutines"`
}

func (s *Server) view(sess *Session, full bool) SessionView {
	v := SessionView{JID: sess.jid.String(), Connected: sess.Connected(), Removed: sess.Removed(), Counters: sess.Counters()}
	if full {
		v.Log = sess.Log()
		v.Inbound = sess.Inbound()
	}
	return v
}

func (s *Server) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/stats", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
		}
		runtime.ReadMemStats(&ms)
		writeJSON(w, http.StatusOK, struct {
			Stats
			Mem MemStats `json:"mem"`
		}{s.Stats(), MemStats{ms.HeapInuse, ms.HeapAlloc, ms.Sys, runtime.NumGoroutine()}})
	}))
	mux.HandleFunc("GET /api/root", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"hex": s.cfg.Root.PublicHex(), "base64": s.cfg.Root.PublicBase64()})
	}))
	mux.HandleFunc("GET /api/sessions", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		out := []SessionView{}
		for _, sess := range s.Sessions() {
			out = append(out, s.view(sess, false))
		}
		writeJSON(w, http.StatusOK, out)
	}))
	mux.HandleFunc("GET /api/sessions/{jid}", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		jid, err := types.ParseJID(r.PathValue("jid"))
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("path: jid: %w", err))
			return
		}
		sess, ok := s.Session(jid)
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("no session for %s", jid))
			return
		}
		writeJSON(w, http.StatusOK, s.view(sess, true))
	}))
	mux.HandleFunc("POST /api/inject", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JID string `json:"jid"`
			Event
		}
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		jid, err := types.ParseJID(req.JID)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("body: jid: %w", err))
			return
		}
		if err := req.Event.validate(); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
			return
		}
		if err := s.Inject(jid, req.Event); err != nil {
			writeError(w, http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"injected": req.Event.String(), "jid": jid.String()})
	}))
	mux.HandleFunc("POST /api/inbound", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JID   string `json:"jid"`
			Count int    `json:"count"`
		}
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		jid, err := types.ParseJID(req.JID)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("body: jid: %w", err))
			return
		}
		if req.Count <= 0 {
			req.Count = 1
		}
		if req.Count > 10000 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("body: count %d above 10000", req.Count))
			return
		}
		items := make([]Inbound, 0, req.Count)
		for range req.Count {
			in, err := s.SendInbound(jid)
			if err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			items = append(items, in)
		}
		writeJSON(w, http.StatusOK, items)
	}))
	mux.HandleFunc("POST /scan", s.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		text := strings.TrimSpace(string(body))
		if strings.HasPrefix(text, "{") {
			var req struct {
				QR string `json:"qr"`
			}
			if err := json.Unmarshal(body, &req); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("body: %w", err))
				return
			}
			text = req.QR
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		jid, err := s.Scan(ctx, text)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"jid": jid.String()})
	}))
}

func (s *Server) loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeError(w, http.StatusForbidden, fmt.Errorf("the mock's API answers loopback clients only"))
			return
		}
		h(w, r)
	}
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
