// Package keepalive is kalab's keep-alive engine: it decides when a WhatsApp
// connection sends heartbeats (presence or ping), when it is declared dead, and
// when and how fast it reconnects.
//
// The core is Session, one deterministic state machine per connection, modelled
// on etcd-io/raft: Step(now, event) returns actions, NextDeadline says when it
// next needs an EventTick. It starts no goroutines, reads no clock, does no I/O
// and draws randomness only from the *rand.Rand it is given, so the simulator can
// step it in virtual time and the same seed gives the same run. A Policy (a
// validated Config, see ApplyDefaults and Validate) is shared by sessions;
// presets reproduce known clients (Preset, PresetNames).
//
// The driver (one goroutine for any number of sessions, a clockwork clock, health
// and metrics) lives beside the core in this package.
//
// keepalive imports no other kalab package and no WhatsApp library: adapters such
// as keepalive/wa depend on it, never the other way round.
package keepalive
