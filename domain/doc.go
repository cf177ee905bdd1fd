// Package domain is the centre of dealreg: the event store contract, the clock,
// error codes, and (as the product grows) the aggregates, commands, events and
// policies of deal registration. It performs no I/O and imports nothing else
// from this module; every other package depends on it, never the reverse.
package domain
