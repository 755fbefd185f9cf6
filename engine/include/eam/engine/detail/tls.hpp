#pragma once
/// EAM_TLS: for the thread-locals on the message path, the engine's (the running actor, the
/// worker, its outbox) and those of the layers above it (the cluster's held casts).
// The library is built position-independent so it can go into a shared object, and -fPIC makes
// every thread_local access a call to __tls_get_addr; initial-exec makes it one load relative
// to the thread pointer. The cost: a shared object holding libeam must be loaded at program
// start (linked), not dlopen'ed late into a process that has run out of static TLS.
#define EAM_TLS thread_local __attribute__((tls_model("initial-exec")))
