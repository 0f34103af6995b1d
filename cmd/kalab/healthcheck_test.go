package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthcheckExitStatus(t *testing.T) {
	code := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }))
	defer srv.Close()

	run := func() error {
		rootCmd.SetArgs([]string{"healthcheck", "--url", srv.URL + "/healthz"})
		return rootCmd.Execute()
	}
	require.NoError(t, run())
	code = http.StatusServiceUnavailable
	err := run()
	require.Error(t, err)
	ec, ok := err.(exitCoder)
	require.True(t, ok)
	assert.Equal(t, 1, ec.ExitCode())
	srv.Close()
	assert.Error(t, run(), "nothing listening is unhealthy")
}
