// Package live runs the keep-alive engine on real WhatsApp accounts: the logic
// behind `kalab live`.
//
// It opens whatsmeow's SQL store on SQLite (pure-Go driver, file mode 0600, WAL),
// logs in every device the store holds (or pairs a new one by QR code or phone
// code), hands each to a keepalive.Engine through keepalive/wa (whatsmeow's own
// keep-alive and reconnect loops off: the engine owns both), serves /healthz,
// /readyz, /sessions and /metrics on loopback, writes slog lines with phone numbers
// and JIDs redacted, reloads its policy on Reload (SIGHUP in the command) without
// dropping connections, and shuts down cleanly when its context ends.
//
// # Placement
//
// live sits at the top level, beside scenarios and reports, because it is a
// program's logic rather than a library of the engine: it imports keepalive,
// keepalive/wa (whatsmeow) and scenarios (for the client config file format),
// which keepalive itself must never import, and it is not part of the lab (sim/…).
// cmd/kalab/live.go only parses flags and signals and calls Runner.Run, so the
// tests drive the very same code in process against the mock server.
//
// live must never import the simulator or the mock server (sim/…) directly, nor
// reports or cmd (scenarios brings the simulator's types in; live uses only its
// client config decoding). The only things that differ between a real account and the mock are the server
// address and the certificate root key (Options.Server, Options.ServerRootKey).
package live
