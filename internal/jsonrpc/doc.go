// Package jsonrpc owns the framing of OVSDB's JSON-RPC 1.0 (RFC 7047 §4): a
// stream of JSON objects, with no delimiter between them, each a request, a
// response or a notification.
//
// It is shared by the OVSDB server (internal/ovsdb/server) and the client
// (internal/client). It knows nothing of OVSDB methods, databases or
// schemas, and imports nothing of hcnet.
package jsonrpc
