#pragma once
// EAM_CLUSTER_TLS: thread-locals on the cluster's send path, for the reason the engine gives for
// its own (engine/src/tls.hpp): the library is built position-independent, where a thread_local
// access is a call to __tls_get_addr, and initial-exec makes it one load. Only for trivially
// constructed and destroyed variables (a pointer), which need no guard on access either.
#define EAM_CLUSTER_TLS thread_local __attribute__((tls_model("initial-exec")))
