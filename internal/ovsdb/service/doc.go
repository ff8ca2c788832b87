// Package service assembles one OVSDB database service: a storage node and
// shard, the replica that applies it, and the JSON-RPC server in front. The
// nbdb and sbdb packages are thin wrappers that fix the schema, the shard id
// and the default addresses.
//
// Driven by: nbdb, sbdb (and through them cmd/nbdb, cmd/sbdb and the
// launcher). Reads no flags and no environment.
package service
