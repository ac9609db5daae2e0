/// A namespace for algorithms that are cryptographically broken for new uses.
///
/// Members exist only to verify data produced by legacy systems (for example, PBKDF2-HMAC-SHA1
/// password hashes imported from older applications). Never choose them for new data.
public enum Insecure {}
