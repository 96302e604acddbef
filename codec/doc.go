// Package codec owns encryption of Temporal payloads at rest: an AES-256-GCM
// converter.PayloadCodec with a rotating keyring, the data converter that
// clients and workers plug into client.Options, and the codec HTTP endpoint
// the Temporal Web UI calls to show decrypted payloads to an authorised
// operator.
//
// Every payload the SDK writes (workflow and activity inputs and results,
// signal and update arguments and results, query results, heartbeat details,
// and — with NewFailureConverter — failure messages and stack traces) is
// serialized as a whole
// (data and metadata), encrypted with the keyring's active key and a random
// 12-byte nonce, and stored as a payload whose metadata says only
// "encoding: binary/encrypted" and "encryption-key-id: <id>". The Temporal
// server, its database and anyone reading raw history see ciphertext only.
//
// Rotation: add a new key to the keyring and make it active. New payloads are
// encrypted with it; payloads written under older key ids still decrypt as
// long as those keys stay in the keyring. Payloads that were never encrypted
// (history written before the codec was enabled) pass through Decode
// untouched.
//
// What is NOT encrypted: workflow ids, workflow type, signal/update/query
// names, task queues, search attributes and headers are visible to the
// server by design, and memo values fall back to the SDK's default converter
// in some SDK versions. Never put chat text or user secrets in them.
package codec
