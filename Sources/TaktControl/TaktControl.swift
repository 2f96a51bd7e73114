// TaktControl — the process-control framework on top of the time-triggered protocol.
//
// What an application author writes against (Docs/guide.md):
//   - typed, fixed-size state messages that carry the instant they were observed and a temporal
//     validity (StateMessage.swift, FixedLayout.swift);
//   - tasks bound to the schedule's task entries, written as plain Swift types and activated at
//     their release instants by the executive or the simulator (Task.swift);
//   - replication: exact and tolerance voting at the consumer, primary/backup shadows
//     (Voting.swift, Replication.swift);
//   - modes, checkpoints and cluster-wide consistent cuts at round boundaries.
//
// Stdlib only, like the protocol core: no Glibc, no Foundation, nothing allocated per activation.
