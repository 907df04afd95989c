#pragma once
// The child side of ProcessPool (process_pool.h): `herd worker-process` runs one
// AgentSession whose coordinator is the parent herd process, over the socket
// `fd`. It compiles the scenario of the parent's Welcome, runs the users of the
// Assignments it gets and sends one delta Report a second; it exits once the
// parent says Finished, or at once when the parent goes away (its socket
// closes), stopping its users without counting anything more.
#include "agent/runtime/agent_session.h"

namespace herd::runtime {

// The process's exit code: 0 after Finished, 3 when it could not run the
// scenario (the parent hears why in a fatal Event) or lost its parent.
int runWorkerProcess(int fd, SessionOptions options);

}  // namespace herd::runtime
