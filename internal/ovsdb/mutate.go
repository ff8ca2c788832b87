package ovsdb

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
)

type mutator uint8

const (
	mutAdd mutator = iota
	mutSub
	mutMul
	mutDiv
	mutMod
	mutInsert
	mutDelete
)

var mutatorNames = map[string]mutator{
	"+=": mutAdd, "-=": mutSub, "*=": mutMul, "/=": mutDiv, "%=": mutMod,
	"insert": mutInsert, "delete": mutDelete,
}

type mutation struct {
	col  *ColumnSchema
	name string
	op   mutator
	arg  Datum
}

func (x *txState) parseMutations(a *opArgs, t *table) ([]mutation, *Error) {
	mv, err := a.required("mutations")
	if err != nil {
		return nil, err
	}
	list, ok := asArray(mv)
	if !ok {
		return nil, a.perr("Type mismatch for member 'mutations'.")
	}
	out := make([]mutation, 0, len(list))
	for _, e := range list {
		m, err := x.parseMutation(t, e)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (x *txState) parseMutation(t *table, v any) (mutation, *Error) {
	a, ok := asArray(v)
	if !ok || len(a) != 3 {
		return mutation{}, syntaxErr(ErrSyntax, v, "Parse error in mutation.")
	}
	cn, ok1 := a[0].(string)
	mn, ok2 := a[1].(string)
	if !ok1 || !ok2 {
		return mutation{}, syntaxErr(ErrSyntax, v, "Parse error in mutation.")
	}
	c, ok := t.schema.Column(cn)
	if !ok {
		return mutation{}, syntaxErr(ErrUnknownColumn, v, "No column %s in table %s.", cn, t.schema.Name)
	}
	op, ok := mutatorNames[mn]
	if !ok {
		return mutation{}, syntaxErr(ErrUnknownMutator, a[1], "No mutator named %s.", mn)
	}
	if c == uuidColumn || c.Index == 0 || !c.Mutable {
		return mutation{}, syntaxErr(ErrConstraint, v, "Cannot mutate immutable column %s in table %s.", cn, t.schema.Name)
	}
	m := mutation{col: c, name: mn, op: op}
	typ := c.Type
	if (op == mutInsert || op == mutDelete) && typ.IsScalar() {
		return mutation{}, syntaxErr(ErrSyntax, v, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", mn, cn, typeEnglish(&typ))
	}
	switch op {
	case mutAdd, mutSub, mutMul, mutDiv, mutMod:
		kt := typ.Key.Type
		if typ.Value != nil || !(kt == TypeInteger || (kt == TypeReal && op != mutMod)) {
			return mutation{}, syntaxErr(ErrSyntax, v, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", mn, cn, typeEnglish(&typ))
		}
		base := relaxed(typ.Key)
		atom, err := parseAtomJSON(a[2], &base, x)
		if err != nil {
			return mutation{}, err
		}
		m.arg = Datum{Keys: []Atom{atom}}
	case mutInsert:
		// The argument may be empty but, as in ovsdb-server, no larger
		// than the column allows.
		typ.Min = 0
		d, err := parseDatumJSON(a[2], &typ, x)
		if err != nil {
			return mutation{}, err
		}
		m.arg = d
	case mutDelete:
		typ.Min, typ.Max = 0, Unlimited
		if typ.Value != nil {
			if arr, ok := asArray(a[2]); !ok || len(arr) != 2 || arr[0] != "map" {
				typ.Value = nil // a set of keys to delete
			}
		}
		d, err := parseDatumJSON(a[2], &typ, x)
		if err != nil {
			return mutation{}, err
		}
		m.arg = d
	}
	return m, nil
}

func (x *txState) opMutate(b []byte, a *opArgs) ([]byte, *Error) {
	if err := a.check("table", "where", "mutations"); err != nil {
		return b, err
	}
	t, err := x.table(a)
	if err != nil {
		return b, err
	}
	where, err := x.where(a, t)
	if err != nil {
		return b, err
	}
	muts, err := x.parseMutations(a, t)
	if err != nil {
		return b, err
	}
	count := 0
	err = x.scan(t, where, func(u UUID, r Row) *Error {
		count++
		vals := make([]Datum, len(muts))
		cur := r
		for i := range muts {
			m := &muts[i]
			d := cur[m.col.Index]
			if i > 0 {
				// Later mutations see earlier ones on the same column.
				for j := 0; j < i; j++ {
					if muts[j].col == m.col {
						d = vals[j]
					}
				}
			}
			nd, err := applyMutation(t.schema, m, d)
			if err != nil {
				return err
			}
			vals[i] = nd
		}
		tr := x.touch(t, u)
		w := tr.writable()
		for i := range muts {
			m := &muts[i]
			if m.col.Type.Value == nil && m.col.Type.Key.refTable != nil && (m.op == mutInsert || m.op == mutDelete) {
				tr.noteMutation(m.col, m.op, m.arg, w[m.col.Index])
			} else {
				tr.forget(m.col.Index)
			}
			w[m.col.Index] = vals[i]
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	return appendCount(b, count), nil
}

func applyMutation(ts *TableSchema, m *mutation, d Datum) (Datum, *Error) {
	typ := &m.col.Type
	switch m.op {
	case mutInsert:
		nd := unionDatum(d, m.arg)
		if nd.Len() > typ.Max {
			return d, newErr(ErrConstraint, "Attempted to store %d elements in %s.", nd.Len(), typeEnglish(typ))
		}
		return nd, nil
	case mutDelete:
		nd := subtractDatum(d, m.arg)
		if nd.Len() < typ.Min {
			return d, newErr(ErrConstraint, "Attempted to store %d elements in %s.", nd.Len(), typeEnglish(typ))
		}
		return nd, nil
	}
	nd := Datum{Keys: make([]Atom, len(d.Keys))}
	for i, k := range d.Keys {
		r, err := arith(m.op, m.name, k, m.arg.Keys[0])
		if err != nil {
			return d, err
		}
		if err := checkAtomConstraints(&typ.Key, r); err != nil {
			return d, err
		}
		nd.Keys[i] = r
	}
	if sortDatum(&nd) {
		return d, newErr(ErrConstraint, "Result of \"%s\" operation contains duplicates.", m.name)
	}
	return nd, nil
}

func arith(op mutator, name string, a, b Atom) (Atom, *Error) {
	rangeErr := func() *Error { return newErr(ErrRange, "Result of \"%s\" operation is out of range.", name) }
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch op {
		case mutAdd:
			r := x + y
			if (y > 0 && r < x) || (y < 0 && r > x) {
				return nil, rangeErr()
			}
			return r, nil
		case mutSub:
			r := x - y
			if (y > 0 && r > x) || (y < 0 && r < x) {
				return nil, rangeErr()
			}
			return r, nil
		case mutMul:
			if x == 0 || y == 0 {
				return int64(0), nil
			}
			neg := (x < 0) != (y < 0)
			hi, lo := bits.Mul64(absU(x), absU(y))
			if hi != 0 || (!neg && lo > math.MaxInt64) || (neg && lo > 1<<63) {
				return nil, rangeErr()
			}
			if neg {
				return int64(-lo), nil
			}
			return int64(lo), nil
		case mutDiv, mutMod:
			if y == 0 {
				return nil, newErr(ErrDomain, "Division by zero.")
			}
			if x == math.MinInt64 && y == -1 {
				if op == mutMod {
					return int64(0), nil
				}
				return nil, rangeErr()
			}
			if op == mutDiv {
				return x / y, nil
			}
			return x % y, nil
		}
	case float64:
		y := b.(float64)
		var r float64
		switch op {
		case mutAdd:
			r = x + y
		case mutSub:
			r = x - y
		case mutMul:
			r = x * y
		case mutDiv:
			if y == 0 {
				return nil, newErr(ErrDomain, "Division by zero.")
			}
			r = x / y
		}
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, rangeErr()
		}
		return r, nil
	}
	return nil, newErr(ErrSyntax, "bad operand for \"%s\"", name)
}

func absU(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

// unionDatum adds b's elements (pairs) whose keys a lacks.
func unionDatum(a, b Datum) Datum {
	if len(b.Keys) <= 4 && len(a.Keys) > 32 {
		return unionFew(a, b)
	}
	out := Datum{Keys: make([]Atom, 0, len(a.Keys)+len(b.Keys))}
	isMap := a.Values != nil || b.Values != nil
	if isMap {
		out.Values = make([]Atom, 0, len(a.Keys)+len(b.Keys))
	}
	i, j := 0, 0
	for i < len(a.Keys) || j < len(b.Keys) {
		var c int
		switch {
		case i == len(a.Keys):
			c = 1
		case j == len(b.Keys):
			c = -1
		default:
			c = compareAtoms(a.Keys[i], b.Keys[j])
		}
		if c <= 0 {
			out.Keys = append(out.Keys, a.Keys[i])
			if isMap {
				out.Values = append(out.Values, a.Values[i])
			}
			i++
			if c == 0 {
				j++
			}
		} else {
			out.Keys = append(out.Keys, b.Keys[j])
			if isMap {
				out.Values = append(out.Values, b.Values[j])
			}
			j++
		}
	}
	return out
}

// subtractDatum removes from a the keys of b (a set) or the pairs of b (a
// map, matched by key and value).
func subtractDatum(a, b Datum) Datum {
	out := Datum{Keys: make([]Atom, 0, len(a.Keys))}
	if a.Values != nil {
		out.Values = make([]Atom, 0, len(a.Keys))
	}
	for i, k := range a.Keys {
		j := b.find(k)
		if j >= 0 && (b.Values == nil || atomsEqual(b.Values[j], a.Values[i])) {
			continue
		}
		out.Keys = append(out.Keys, k)
		if a.Values != nil {
			out.Values = append(out.Values, a.Values[i])
		}
	}
	return out
}

func baseEnglish(b *BaseType) string {
	if b.refTable != nil {
		if b.RefType == RefWeak {
			return "weak reference to " + b.RefTable
		}
		return "reference to " + b.RefTable
	}
	return b.Type.String()
}

// typeEnglish describes a column type the way ovsdb-server's messages do.
func typeEnglish(t *ColumnType) string {
	key := baseEnglish(&t.Key)
	if t.Value != nil {
		val := baseEnglish(t.Value)
		pairs := "(" + key + ", " + val + ") pairs"
		switch {
		case t.Min == 0 && t.Max == Unlimited:
			return "map of " + pairs
		case t.Min == 0:
			return fmt.Sprintf("map of up to %d %s", t.Max, pairs)
		case t.Max == Unlimited:
			return fmt.Sprintf("map of %d or more %s", t.Min, pairs)
		}
		return fmt.Sprintf("map of %d to %d %s", t.Min, t.Max, pairs)
	}
	switch {
	case t.Min == 1 && t.Max == 1:
		return key
	case t.Min == 0 && t.Max == Unlimited:
		return "set of " + key + "s"
	case t.Min == 0:
		return fmt.Sprintf("set of up to %d %ss", t.Max, key)
	case t.Max == Unlimited:
		return fmt.Sprintf("set of %d or more %ss", t.Min, key)
	}
	return fmt.Sprintf("set of %d to %d %ss", t.Min, t.Max, key)
}

// unionFew inserts a few elements into a large datum by binary search and
// block copies instead of comparing every element.
func unionFew(a, b Datum) Datum {
	isMap := a.Values != nil || b.Values != nil
	out := Datum{Keys: make([]Atom, 0, len(a.Keys)+len(b.Keys))}
	if isMap {
		out.Values = make([]Atom, 0, len(a.Keys)+len(b.Keys))
	}
	start := 0
	for j, k := range b.Keys {
		i := start + sort.Search(len(a.Keys)-start, func(i int) bool { return compareAtoms(a.Keys[start+i], k) >= 0 })
		out.Keys = append(out.Keys, a.Keys[start:i]...)
		if isMap {
			out.Values = append(out.Values, a.Values[start:i]...)
		}
		start = i
		if i < len(a.Keys) && atomsEqual(a.Keys[i], k) {
			continue // present: a's element (and value) wins
		}
		out.Keys = append(out.Keys, k)
		if isMap {
			out.Values = append(out.Values, b.Values[j])
		}
	}
	out.Keys = append(out.Keys, a.Keys[start:]...)
	if isMap {
		out.Values = append(out.Values, a.Values[start:]...)
	}
	return out
}
