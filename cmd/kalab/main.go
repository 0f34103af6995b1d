// Command kalab is the keep-alive lab: it runs keep-alive policies against modelled
// and real networks and recommends one for a given path.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "kalab: the simulator has not landed yet; `kalab run` is not available")
	os.Exit(2)
}
