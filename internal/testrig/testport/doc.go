// Package testport gives test rigs loopback ports that cannot be lost to
// another process between choosing and binding. It is for tests only.
//
// A port that was free a moment ago (listen on :0, read the port, close,
// hand the number to a peer) is not reserved: on a busy machine another
// process takes it before the peer binds it, and any port in the kernel's
// ephemeral range (32768–60999 on Linux) may be held at that moment by an
// outgoing connection. So, in order of preference:
//
//   - In process, listen on "127.0.0.1:0" and keep the listener.
//   - A peer that accepts port 0 and reports the port it bound (Azurite,
//     the example mains) is started on port 0 and its report is read.
//   - A peer that needs a number (redis-server, whose port 0 means "no
//     TCP") is started by [Start]: a random port below the ephemeral range,
//     so no outgoing connection holds it, and a fresh port when the start
//     says it lost the port ([ErrTaken]), a bounded number of times.
//
// [Refusing] is an address that refuses connections for the whole test,
// for fault injection, without the race of closing a listener.
package testport
