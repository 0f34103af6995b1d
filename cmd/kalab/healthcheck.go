package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/kalab-dev/kalab/live"
)

// healthcheckCmd is `kalab healthcheck`: a container HEALTHCHECK for images
// without a shell or curl (distroless). Exit 0 when the URL answers 200.
var healthcheckCmd = func() *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if kalab live's /healthz answers 200 (for container health checks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return healthErr(fmt.Sprintf("healthcheck: %v", err))
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return healthErr(fmt.Sprintf("healthcheck: %s answered %s", url, resp.Status))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://"+live.DefaultListen+"/healthz", "health URL to probe")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}()

// healthErr makes the command exit 1 (unhealthy), as Docker expects.
type healthErr string

func (e healthErr) Error() string { return string(e) }
func (e healthErr) ExitCode() int { return 1 }

func init() { rootCmd.AddCommand(healthcheckCmd) }
