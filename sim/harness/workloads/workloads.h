// The workloads the harness knows (sim/harness/workload.h). Each file of this folder defines
// one; Workloads() lists them all.
#pragma once

#include "sim/harness/workload.h"

namespace cairn::sim {

const WorkloadInfo& RegisterWorkloadInfo();  // the demo register (src/demo)
const WorkloadInfo& JournalWorkloadInfo();   // a Raft journal stream (src/journal)
const WorkloadInfo& EngineWorkloadInfo();    // the shard engine on one node's disk (src/lsm)
const WorkloadInfo& DfsWorkloadInfo();       // the file system (src/dfs, src/master)
const WorkloadInfo& EngineDfsWorkloadInfo();  // the shard engine with its SSTables on the DFS

}  // namespace cairn::sim
