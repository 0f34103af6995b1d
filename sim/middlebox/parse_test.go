package middlebox

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePathValid(t *testing.T) {
	cases := []struct {
		in   string
		want []Spec
	}{
		{"nginx", []Spec{must(Lookup("nginx"))}},
		{" nginx , aws-nlb ", []Spec{must(Lookup("nginx")), must(Lookup("aws-nlb"))}},
		{"idle:45s:both:close", []Spec{{Name: "idle:45s:both:close", Kind: KindIdle, Timeout: 45 * time.Second, Watches: Both, AtExpiry: Close}}},
		{"idle:45s", []Spec{{Name: "idle:45s:both:close", Kind: KindIdle, Timeout: 45 * time.Second, Watches: Both, AtExpiry: Close}}},
		{"idle:20s:down", []Spec{{Name: "idle:20s:down:close", Kind: KindIdle, Timeout: 20 * time.Second, Watches: Down, AtExpiry: Close}}},
		{"idle:350s:both:blackhole", []Spec{{Name: "idle:5m50s:both:blackhole", Kind: KindIdle, Timeout: 350 * time.Second, Watches: Both, AtExpiry: Blackhole}}},
		{"idle:350s:both:blackhole:rst", []Spec{{Name: "idle:5m50s:both:blackhole:rst", Kind: KindIdle, Timeout: 350 * time.Second, Watches: Both, AtExpiry: Blackhole, ResetOnNextPacket: true}}},
		{"lifetime:30m", []Spec{{Name: "lifetime:30m:close", Kind: KindLifetime, Timeout: 30 * time.Minute, AtExpiry: Close}}},
		{"lifetime:2h:reset", []Spec{{Name: "lifetime:2h:reset", Kind: KindLifetime, Timeout: 2 * time.Hour, AtExpiry: Reset}}},
		{"none", []Spec{{Name: "none", Kind: KindNone}}},
		{"idle:45s:name=my-proxy", []Spec{{Name: "my-proxy", Kind: KindIdle, Timeout: 45 * time.Second, Watches: Both, AtExpiry: Close}}},
	}
	for _, c := range cases {
		got, err := ParsePath(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestParsePathMixed(t *testing.T) {
	got, err := ParsePath("idle:45s:both:close,idle:350s:both:blackhole,lifetime:30m,nginx:timeout=75s")
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, KindLifetime, got[2].Kind)
	assert.Equal(t, "nginx:timeout=75s", got[3].Name, "an overridden catalog entry is named by its text")
	assert.Equal(t, 75*time.Second, got[3].Timeout)
	assert.Equal(t, Both, got[3].Watches)
	assert.Contains(t, got[3].Source, "ngx_http_upstream", "overrides keep the catalog source")
}

func TestParseOverrides(t *testing.T) {
	s, err := ParseElement("aws-nlb:timeout=600s:reset_on_next_packet=false")
	require.NoError(t, err)
	assert.Equal(t, 600*time.Second, s.Timeout)
	assert.False(t, s.ResetOnNextPacket)
	assert.Equal(t, Blackhole, s.AtExpiry)

	s, err = ParseElement("azure-lb:at_expiry=reset")
	require.NoError(t, err)
	assert.Equal(t, Reset, s.AtExpiry)

	s, err = ParseElement("nginx:watches=down:name=nginx-docs")
	require.NoError(t, err)
	assert.Equal(t, Down, s.Watches)
	assert.Equal(t, "nginx-docs", s.Name)

	// HAProxy's timeout tunnel, once set, is an idle timer over both directions.
	s, err = ParseElement("haproxy:timeout=30s")
	require.NoError(t, err)
	assert.Equal(t, KindIdle, s.Kind)
	assert.Equal(t, Both, s.Watches)
	assert.Equal(t, Close, s.AtExpiry)

	// Caddy's stream_timeout is an absolute lifetime.
	s, err = ParseElement("caddy:timeout=1h")
	require.NoError(t, err)
	assert.Equal(t, KindLifetime, s.Kind)
	assert.Equal(t, time.Hour, s.Timeout)

	s, err = ParseElement("traefik:kind=idle:timeout=180s")
	require.NoError(t, err)
	assert.Equal(t, KindIdle, s.Kind)
	assert.Equal(t, Both, s.Watches)
	assert.Equal(t, 180*time.Second, s.Timeout)
}

func TestParsePathErrors(t *testing.T) {
	cases := []struct {
		in   string
		want []string // fragments the error must contain
	}{
		{"", []string{"empty path"}},
		{"nginx,", []string{"path element 2", "empty element"}},
		{"ngnix", []string{"path element 1", `"ngnix"`, `did you mean "nginx"`}},
		{"nginx,aws-nbl", []string{"path element 2", `did you mean "aws-nlb"`}},
		{"zzzzzzzz", []string{`unknown middlebox "zzzzzzzz"`, "idle:TIMEOUT"}},
		{"idle", []string{"needs a timeout"}},
		{"idle:45", []string{`"45" has no unit`, "45s"}},
		{"idle:soon", []string{`"soon" is not a duration`}},
		{"idle:-5s", []string{"must be > 0"}},
		{"idle:45s:sideways", []string{"watches", `unknown "sideways"`}},
		{"idle:45s:both:explode", []string{"at_expiry", `unknown "explode"`}},
		{"idle:45s:both:clsoe", []string{`did you mean "close"`}},
		{"idle:45s:both:close:extra", []string{`unexpected "extra"`}},
		{"nginx:timout=75s", []string{`unknown override "timout"`, `did you mean "timeout"`}},
		{"nginx:timeout=75", []string{"has no unit"}},
		{"nginx:watches=upp", []string{`did you mean "up"`}},
		{"nginx:reset_on_next_packet=maybe", []string{"not true or false"}},
		{"nginx:rst", []string{"reset_on_next_packet", "only meaningful with at_expiry blackhole"}},
		{"nginx:name=", []string{"name: empty"}},
		{"traefik:timeout=30s", []string{"keeps no timer", "kind=idle"}},
		{"lifetime:30m:watches=both", []string{"no meaning for a lifetime timer"}},
		{"idle:45s:kind=sometimes", []string{"kind", `unknown "sometimes"`}},
	}
	for _, c := range cases {
		_, err := ParsePath(c.in)
		require.Error(t, err, c.in)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.in)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		s    Spec
		want string
	}{
		{Spec{}, "kind: missing"},
		{Spec{Kind: "sometimes"}, `kind: unknown "sometimes"`},
		{Spec{Kind: KindIdle, Watches: Both, AtExpiry: Close}, "timeout: must be > 0"},
		{Spec{Kind: KindIdle, Timeout: time.Second, AtExpiry: Close}, "watches: missing"},
		{Spec{Kind: KindIdle, Timeout: time.Second, Watches: Both}, "at_expiry: missing"},
		{Spec{Kind: KindIdle, Timeout: time.Second, Watches: "left", AtExpiry: Close}, `watches: unknown "left"`},
		{Spec{Kind: KindIdle, Timeout: time.Second, Watches: Both, AtExpiry: "boom"}, `at_expiry: unknown "boom"`},
		{Spec{Kind: KindLifetime, Timeout: time.Second, Watches: Up, AtExpiry: Close}, "no meaning for a lifetime timer"},
		{Spec{Kind: KindNone, Timeout: -time.Second}, "must not be negative"},
		{Spec{Kind: KindIdle, Timeout: time.Second, Watches: Both, AtExpiry: Close, ResetOnNextPacket: true}, "only meaningful with at_expiry blackhole"},
		{Spec{Name: "mine", Kind: KindIdle, Watches: Both, AtExpiry: Close}, `middlebox "mine"`},
	}
	for _, c := range cases {
		err := c.s.Validate()
		require.Error(t, err, "%+v", c.s)
		assert.Contains(t, err.Error(), c.want)
	}
	err := ValidatePath([]Spec{must(Lookup("nginx")), {Kind: KindIdle}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "path element 2")
	assert.NoError(t, ValidatePath([]Spec{must(Lookup("nginx"))}))
}

func TestCompactRoundTrip(t *testing.T) {
	for _, s := range Catalog() {
		if s.Kind == KindNone {
			continue
		}
		back, err := ParseElement(s.Compact())
		require.NoError(t, err, s.Name)
		assert.Equal(t, s.Kind, back.Kind, s.Name)
		assert.Equal(t, s.Timeout, back.Timeout, s.Name)
		assert.Equal(t, s.Watches, back.Watches, s.Name)
		assert.Equal(t, s.AtExpiry, back.AtExpiry, s.Name)
		assert.Equal(t, s.ResetOnNextPacket, back.ResetOnNextPacket, s.Name)
	}
	assert.Equal(t, "idle:2h4m:both:blackhole", must(Lookup("rfc5382-nat")).Compact())
	assert.Equal(t, "nginx", must(Lookup("nginx")).String())
	assert.Equal(t, "lifetime:30s:close", Spec{Kind: KindLifetime, Timeout: 30 * time.Second, AtExpiry: Close}.String())
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"nginx", "idle:45s:both:close,lifetime:30m", "aws-nlb:timeout=600s:rst", "haproxy:timeout=1s", ",,", "idle::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ParsePath(in)
		if err != nil {
			return
		}
		for _, s := range specs {
			if verr := s.Validate(); verr != nil {
				t.Fatalf("ParsePath(%q) returned an invalid spec %+v: %v", in, s, verr)
			}
		}
	})
}

func must(s Spec, ok bool) Spec {
	if !ok {
		panic("missing catalog entry")
	}
	return s
}
