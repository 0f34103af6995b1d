package middlebox

import (
	"slices"
	"strings"
	"time"
)

// catalog holds every profile of FACTS.md §1 under its stable name. Each entry's
// Source is the same source FACTS.md names; change a number only together with
// FACTS.md and with a newer primary source.
var catalog = map[string]Spec{
	"nginx": {
		Kind: KindIdle, Timeout: 60 * time.Second, Watches: Both, AtExpiry: Close,
		Source: "nginx src/http/ngx_http_upstream.c ngx_http_upstream_process_upgraded; " +
			"nginx.org docs websocket.xml; default in ngx_http_proxy_module.c",
		Description: "nginx WebSocket proxy, proxy_read_timeout 60 s; reads from either side re-arm it",
	},
	"nginx-send": {
		// proxy_send_timeout only runs while a write to the peer is blocked, so it
		// never fires on an idle socket: as a path element it keeps no timer.
		Kind: KindNone, Timeout: 60 * time.Second, AtExpiry: Close,
		Source:      "nginx src/http/ngx_http_upstream.c ngx_http_upstream_process_upgraded",
		Description: "nginx proxy_send_timeout 60 s: fires only while a write is blocked, never on an idle socket",
	},
	"cloudflare": {
		// Which directions re-arm it is not documented; both is assumed.
		Kind: KindIdle, Timeout: 100 * time.Second, Watches: Both, AtExpiry: Close,
		Source:      "developers.cloudflare.com connection-limits",
		Description: "Cloudflare WebSocket proxy, 100 s idle (Enterprise can change it); closes with 524",
	},
	"aws-alb": {
		Kind: KindIdle, Timeout: 60 * time.Second, Watches: Both, AtExpiry: Close,
		Source:      `AWS ELB docs "edit-load-balancer-attributes", classic "config-idle-timeout"`,
		Description: "AWS Application Load Balancer, 60 s idle (1–4000 s); TCP keepalive probes do not count",
	},
	"aws-nlb": {
		Kind: KindIdle, Timeout: 350 * time.Second, Watches: Both, AtExpiry: Blackhole,
		ResetOnNextPacket: true,
		Source:            `AWS NLB docs "update-idle-timeout"`,
		Description:       "AWS Network Load Balancer (TCP), 350 s idle (60–6000 s); silent drop, RST on the next packet",
	},
	"azure-lb": {
		Kind: KindIdle, Timeout: 4 * time.Minute, Watches: Both, AtExpiry: Blackhole,
		Source:      "MicrosoftDocs azure-docs load-balancer-tcp-idle-timeout.md",
		Description: "Azure Load Balancer, 4 min idle (4–100 min); silent drop by default",
	},
	"azure-lb-reset": {
		Kind: KindIdle, Timeout: 4 * time.Minute, Watches: Both, AtExpiry: Reset,
		Source:      "MicrosoftDocs azure-docs load-balancer-tcp-idle-timeout.md, load-balancer-tcp-reset.md",
		Description: `Azure Load Balancer with "TCP reset" on, 4 min idle; RST to both ends`,
	},
	"gcp-lb": {
		Kind: KindLifetime, Timeout: 30 * time.Second, AtExpiry: Close,
		Source:      "kubernetes/ingress-gce examples/websocket/README.md",
		Description: "GCP external HTTP(S) LB: the 30 s backend service timeout caps a WebSocket's lifetime",
	},
	"gcp-cloud-nat": {
		Kind: KindIdle, Timeout: 1200 * time.Second, Watches: Both, AtExpiry: Blackhole,
		Source:      "GCP Cloud NAT API docs (tcpEstablishedIdleTimeoutSec)",
		Description: "GCP Cloud NAT, established TCP idle 1200 s; silent drop",
	},
	"heroku": {
		Kind: KindIdle, Timeout: 55 * time.Second, Watches: Both, AtExpiry: Close,
		Source:      `devcenter.heroku.com "http-routing"`,
		Description: "Heroku router, 55 s rolling window; closes with H15",
	},
	"docker-swarm": {
		Kind: KindIdle, Timeout: 900 * time.Second, Watches: Both, AtExpiry: Blackhole,
		Source:      "moby/moby #31208, #37466; docker/docs #5519",
		Description: "Docker Swarm ingress / IPVS (VIP mode), 900 s idle; silent drop (RST on the same host)",
	},
	"linux-conntrack": {
		Kind: KindIdle, Timeout: 432000 * time.Second, Watches: Both, AtExpiry: Blackhole,
		Source:      "kernel Documentation/networking/nf_conntrack-sysctl (nf_conntrack_tcp_timeout_established)",
		Description: "Linux conntrack, established 5 days; state dropped silently",
	},
	"kube-proxy": {
		Kind: KindIdle, Timeout: 24 * time.Hour, Watches: Both, AtExpiry: Blackhole,
		Source:      "kube-proxy reference --conntrack-tcp-timeout-established",
		Description: "kube-proxy conntrack, established 24 h; state dropped silently",
	},
	"haproxy": {
		Kind: KindNone, AtExpiry: Close,
		Source:      "haproxy doc/configuration.txt (timeout tunnel)",
		Description: "HAProxy: timeout tunnel is infinite unless set; when set it watches both directions and closes",
	},
	"traefik": {
		Kind:        KindNone,
		Source:      "traefik/traefik #8668, #10627; easypanel docs custom-traefik-config",
		Description: "Traefik (what EasyPanel runs): no WebSocket timeout; idleTimeout 180 s is HTTP keep-alive only",
	},
	"caddy": {
		Kind: KindNone, AtExpiry: Close,
		Source:      "caddy docs reverse_proxy",
		Description: "Caddy reverse_proxy: no timeout (optional absolute stream_timeout); closes streams on config reload",
	},
	"residential-proxy": {
		// The reporter measured about 10–15 s; the catalog takes the lower end.
		Kind: KindIdle, Timeout: 10 * time.Second, Watches: Both, AtExpiry: Close,
		Source:      "devlikeapro/waha #2167 (reporter's measurement)",
		Description: "residential rotating proxy (CONNECT tunnel), about 10–15 s idle; closes",
	},
	"geonode": {
		Kind: KindIdle, Timeout: 60 * time.Second, Watches: Both, AtExpiry: Close,
		Source:      "devlikeapro/waha #751",
		Description: "Geonode proxy, about 60 s idle; closes",
	},
	"rfc5382-nat": {
		Kind: KindIdle, Timeout: 2*time.Hour + 4*time.Minute, Watches: Both, AtExpiry: Blackhole,
		Source:      "RFC 5382 REQ-5",
		Description: "home NAT at the RFC 5382 floor, 2 h 4 min idle; state dropped silently",
	},
}

// Lookup returns the catalog profile called name, with Name set.
func Lookup(name string) (Spec, bool) {
	s, ok := catalog[name]
	if !ok {
		return Spec{}, false
	}
	s.Name = name
	return s, true
}

// Names returns the catalog's profile names in sorted order.
func Names() []string {
	names := make([]string, 0, len(catalog))
	for n := range catalog {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Catalog returns every catalog profile, sorted by name.
func Catalog() []Spec {
	names := Names()
	specs := make([]Spec, len(names))
	for i, n := range names {
		specs[i], _ = Lookup(n)
	}
	return specs
}

// Closest returns the catalog name nearest to name by edit distance, for "did you
// mean" suggestions; ok is false when nothing is close enough to be a plausible typo.
func Closest(name string) (suggestion string, ok bool) {
	return ClosestOf(name, Names())
}

// ClosestOf returns the candidate nearest to name by edit distance, for "did you
// mean" suggestions in this package's and the scenario loader's errors. A
// candidate qualifies when its edit distance is at most max(2, len(name)/3), or
// when one contains the other (names of 3 bytes or more); ok is false when none
// qualifies or name is empty.
func ClosestOf(name string, candidates []string) (suggestion string, ok bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(name, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || name == "" {
		return "", false
	}
	limit := max(2, len(name)/3)
	if bestD <= limit {
		return best, true
	}
	if len(name) < 3 {
		return "", false
	}
	best, bestD = "", -1
	for _, c := range candidates {
		if strings.Contains(c, name) || strings.Contains(name, c) {
			if d := editDistance(name, c); bestD < 0 || d < bestD {
				best, bestD = c, d
			}
		}
	}
	return best, bestD >= 0
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
