import SolventJournal

extension ClusterNode {
    /// Closes this node's PostgreSQL connections at shutdown, after `resign()` and the last
    /// snapshot: the member table's, then the lease's and the keys' (postgres-nio asserts that a
    /// connection is closed before it is released; closing in a `deinit` does not wait for it).
    /// The journal's connection is closed, waiting, when the journal is released; the LISTEN
    /// connection by its loop when the node's `run()` is cancelled.
    public func closeConnections() async {
        await membership.table?.close()
        await lease.close()
    }
}
