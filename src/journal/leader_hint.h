// How a replica that does not lead a stream refuses a request, naming the leader it believes
// in, and how a client reads that name back. Both sides use this one format.
//
// The refusal is Unavailable ("try elsewhere"), never FailedPrecondition, which the journal
// keeps for refusals a retry cannot cure (a stale epoch: the writer was fenced).
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "src/runtime/network.h"

namespace cairn::journal {

// "not the leader (leader: 2)", or "(leader: unknown)" for kNoNode.
absl::Status NotLeaderError(NodeId leader);

// The leader a NotLeaderError names; nullopt for any other status or an unknown leader.
std::optional<NodeId> LeaderHint(const absl::Status& status);

}  // namespace cairn::journal
