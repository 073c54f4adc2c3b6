public import PostgresNIO

extension PostgresConnection.Configuration {
    /// The connection settings of a `postgres://user[:password]@host[:port]/database` URL (TLS off,
    /// as the journal's); the error never shows the password. For stores beside the journal in the
    /// group's schema (the cluster's webhook outbox).
    public init(solventURL url: String) throws {
        self = try PostgresURL.configuration(url)
    }

    /// Throws unless `schema` is letters, digits and _ (it is spliced into SQL as an identifier).
    public static func checkSolventSchema(_ schema: String) throws {
        try PostgresURL.checkSchema(schema)
    }
}
