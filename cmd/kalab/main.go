// Command kalab is the keep-alive lab: it runs keep-alive policies against modelled
// and real networks, recommends one for a given path, and runs it on a real account.
//
// Each subcommand lives in its own file and adds itself to rootCmd in init.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

// rootCmd is the kalab command; subcommands register themselves on it.
var rootCmd = &cobra.Command{
	Use:           "kalab",
	Short:         "The keep-alive lab for WhatsApp bots",
	SilenceUsage:  true,
	SilenceErrors: false,
}

// exitCoder is an error that carries a process exit status (e.g. 1 when an
// expectation failed).
type exitCoder interface{ ExitCode() int }

func main() {
	if err := rootCmd.Execute(); err != nil {
		if ec, ok := err.(exitCoder); ok {
			os.Exit(ec.ExitCode())
		}
		os.Exit(2)
	}
}
