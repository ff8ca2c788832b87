package jsonrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message is one JSON-RPC object. Which fields are set decides its kind:
//
//   - request: Method, Params and a non-null ID;
//   - notification: Method and Params, ID nil (sent as null);
//   - response: no Method; Result or Error, and the ID of its request.
//
// Marshalling always writes the members RFC 7047 §4 requires for the kind
// ("params" as an array, "error": null in a successful response, "id": null in
// a notification), whatever the caller left nil.
type Message struct {
	Method string
	Params json.RawMessage
	Result json.RawMessage
	Error  json.RawMessage
	ID     json.RawMessage
}

// IsRequest tells whether m is a request: a method call that expects a response.
func (m *Message) IsRequest() bool { return m.Method != "" && !isNull(m.ID) }

// IsNotification tells whether m is a method call without an ID.
func (m *Message) IsNotification() bool { return m.Method != "" && isNull(m.ID) }

// IsResponse tells whether m answers an earlier request.
func (m *Message) IsResponse() bool { return m.Method == "" }

func isNull(r json.RawMessage) bool {
	return len(r) == 0 || bytes.Equal(bytes.TrimSpace(r), []byte("null"))
}

var null = json.RawMessage("null")

func orNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return null
	}
	return r
}

type request struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	ID     json.RawMessage `json:"id"`
}

type response struct {
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// MarshalJSON writes m in the shape its kind requires.
func (m *Message) MarshalJSON() ([]byte, error) {
	if m.Method != "" {
		params := m.Params
		if len(params) == 0 {
			params = json.RawMessage("[]")
		}
		return json.Marshal(request{Method: m.Method, Params: params, ID: orNull(m.ID)})
	}
	return json.Marshal(response{Result: orNull(m.Result), Error: orNull(m.Error), ID: orNull(m.ID)})
}

// wire is what any message may carry; decoding sorts it into a Message.
type wire struct {
	Method *string          `json:"method"`
	Params json.RawMessage  `json:"params"`
	Result json.RawMessage  `json:"result"`
	Error  json.RawMessage  `json:"error"`
	ID     *json.RawMessage `json:"id"`
}

// Decode parses one JSON-RPC object. A JSON null in "error", "result" or
// "id" becomes nil. Errors name what is wrong with the object.
func Decode(data []byte) (*Message, error) {
	if m, ok := decodeFast(data); ok {
		return m, nil
	}
	return decodeSlow(data)
}

// decodeSlow is Decode by encoding/json, for any input.
func decodeSlow(data []byte) (*Message, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	m := &Message{Params: w.Params}
	if w.ID != nil && !isNull(*w.ID) {
		m.ID = *w.ID
	}
	if w.Method != nil {
		if *w.Method == "" {
			return nil, fmt.Errorf("%w: empty \"method\"", ErrInvalid)
		}
		m.Method = *w.Method
		if len(w.Params) > 0 && w.Params[0] != '[' {
			return nil, fmt.Errorf("%w: \"params\" of %q is not an array", ErrInvalid, m.Method)
		}
		return m, nil
	}
	if w.ID == nil {
		return nil, fmt.Errorf("%w: object has neither \"method\" nor \"id\"", ErrInvalid)
	}
	if !isNull(w.Result) {
		m.Result = w.Result
	}
	if !isNull(w.Error) {
		m.Error = w.Error
	}
	return m, nil
}

// NewRequest builds a request; params are marshalled as a JSON array.
func NewRequest(id any, method string, params ...any) (*Message, error) {
	p, err := marshalParams(params)
	if err != nil {
		return nil, fmt.Errorf("%s params: %w", method, err)
	}
	rawID, err := json.Marshal(id)
	if err != nil {
		return nil, fmt.Errorf("%s id: %w", method, err)
	}
	return &Message{Method: method, Params: p, ID: rawID}, nil
}

// NewNotification builds a notification (a request with a null ID).
func NewNotification(method string, params ...any) (*Message, error) {
	p, err := marshalParams(params)
	if err != nil {
		return nil, fmt.Errorf("%s params: %w", method, err)
	}
	return &Message{Method: method, Params: p}, nil
}

// NewResponse answers the request with the given ID.
func NewResponse(id json.RawMessage, result any) (*Message, error) {
	r, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	return &Message{Result: r, ID: id}, nil
}

// NewErrorResponse answers the request with the given ID with an error; the
// error member is the JSON object {"error": kind, "details": details}, as
// ovsdb-server sends it.
func NewErrorResponse(id json.RawMessage, kind, details string) *Message {
	e := map[string]string{"error": kind}
	if details != "" {
		e["details"] = details
	}
	b, _ := json.Marshal(e) // a map of strings always marshals
	return &Message{Error: b, ID: id}
}

func marshalParams(params []any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	return json.Marshal(params)
}
