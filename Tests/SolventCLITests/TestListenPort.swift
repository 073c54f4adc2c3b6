/// A TCP port for a test's `solvent serve` to listen on: random in 20,000 ..< 32,768, below
/// Linux's ephemeral range (`net.ipv4.ip_local_port_range`, 32,768–60,999 by default), so no
/// outgoing connection on this machine (the tests' own HTTP and PostgreSQL clients) can be
/// holding it. The tests drew ports up to 50,000 before: one that a client's socket held made
/// the server fail to listen — a test failure by chance (or a retry of the cluster tests).
func testListenPort() -> Int { Int.random(in: 20_000..<32_768) }
