package ovsdb

import "fmt"

// Error kinds of RFC 7047 and ovsdb-server, as they appear in the "error"
// member of an error object.
const (
	ErrReferentialIntegrity = "referential integrity violation"
	ErrConstraint           = "constraint violation"
	ErrDomain               = "domain error"
	ErrRange                = "range error"
	ErrTimedOut             = "timed out"
	ErrNotSupported         = "not supported"
	ErrAborted              = "aborted"
	ErrNotOwner             = "not owner"
	ErrResourcesExhausted   = "resources exhausted"
	ErrIO                   = "I/O error"
	ErrDuplicateUUIDName    = "duplicate uuid-name"
	ErrDuplicateUUID        = "duplicate uuid"
	ErrUnknownDatabase      = "unknown database"
	ErrSyntax               = "syntax error"
	ErrUnknownColumn        = "unknown column"
	ErrUnknownMutator       = "unknown mutator"
	ErrUnknownFunction      = "unknown function"
	// ErrOVSDB is ovsdb-server's kind for a set or map with duplicates.
	ErrOVSDB = "ovsdb error"
)

// Error is an OVSDB error object (RFC 7047 §3.1 <error>): the kind, a
// human-readable detail and, for syntax problems, the offending JSON.
type Error struct {
	Kind    string
	Details string
	Syntax  any // decoded JSON of the offending input, or nil
	// hasSyntax distinguishes a JSON null syntax from none.
	hasSyntax bool
}

func (e *Error) Error() string {
	if e.Details == "" {
		return "ovsdb: " + e.Kind
	}
	return "ovsdb: " + e.Kind + ": " + e.Details
}

// AppendJSON appends the wire form of e.
func (e *Error) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if e.Details != "" {
		b = append(b, `"details":`...)
		b = appendJSONString(b, e.Details)
		b = append(b, ',')
	}
	b = append(b, `"error":`...)
	b = appendJSONString(b, e.Kind)
	if e.hasSyntax {
		b = append(b, `,"syntax":`...)
		b = appendJSONString(b, string(appendJSONValue(nil, e.Syntax)))
	}
	return append(b, '}')
}

func newErr(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Details: fmt.Sprintf(format, args...)}
}

func syntaxErr(kind string, syntax any, format string, args ...any) *Error {
	return &Error{Kind: kind, Details: fmt.Sprintf(format, args...), Syntax: syntax, hasSyntax: true}
}
