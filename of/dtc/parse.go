package dtc

import (
	"fmt"
	"slices"
)

// parser is one Parse: the scanner's cursor (scan.go), the tree being
// built and the counts the bounds apply to.
type parser struct {
	file           string
	src            []byte
	off, line, col int

	tree      *Tree
	nodes     int
	props     int
	fragments int
}

// mark is a saved cursor.
type mark struct{ off, line, col int }

func (p *parser) save() mark     { return mark{p.off, p.line, p.col} }
func (p *parser) restore(m mark) { p.off, p.line, p.col = m.off, m.line, m.col }

// Parse reads the device-tree source src, named file in messages, and
// returns its tree: every node and property, labels, phandles assigned
// and references resolved (see the package documentation for the subset
// and the checks). A refused source gives an *Error naming the line and
// column, which matches device.ErrInvalid (device.ErrFileTooBig for a
// bound passed).
func Parse(file string, src []byte) (t *Tree, err error) {
	p := &parser{file: file, src: src, line: 1, col: 1}
	if len(src) > MaxSourceSize {
		return nil, p.tooBig(Pos{1, 1}, "source is %d bytes, more than the %d accepted", len(src), MaxSourceSize)
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			t, err = nil, b.err
		}
	}()
	p.tree = &Tree{File: file, labels: map[string]*Node{}}
	p.tree.Root = p.newNode("", nil, Pos{1, 1})
	p.parseFile()
	p.resolve()
	return p.tree, nil
}

// newNode makes a node, counting it against MaxNodes.
func (p *parser) newNode(name string, parent *Node, pos Pos) *Node {
	p.nodes++
	if p.nodes > MaxNodes {
		p.fail(p.tooBig(pos, "more than %d nodes", MaxNodes))
	}
	return &Node{Name: name, Parent: parent, Pos: pos}
}

// parseFile is dtc's sourcefile rule: the header, then top-level nodes.
func (p *parser) parseFile() {
	p.skipSpace()
	if pos := p.pos(); p.directive() != "dts-v1" {
		p.fail(p.errorf(pos, "syntax error: the source must start with /dts-v1/;"))
	}
	p.expect(';', "';' after /dts-v1/")
	for {
		p.skipSpace()
		m, pos := p.save(), p.pos()
		switch w := p.directive(); w {
		case "dts-v1":
			p.expect(';', "';' after /dts-v1/")
			continue
		case "plugin":
			p.tree.Plugin = true
			p.expect(';', "';' after /plugin/")
			continue
		case "memreserve", "include", "incbin":
			p.fail(p.errorf(pos, "/%s/ is not supported", w))
		}
		p.restore(m)
		break
	}
	for {
		p.skipSpace()
		if p.eof() {
			return
		}
		pos := p.pos()
		if w := p.directive(); w != "" {
			if w != "delete-node" {
				p.fail(p.errorf(pos, "syntax error: /%s/ is not allowed at top level", w))
			}
			p.skipSpace()
			if p.peek() != '&' {
				p.fail(p.errorf(p.pos(), "syntax error: expected &label or &{/path} after /delete-node/, found %s", p.found()))
			}
			ref := p.reference()
			p.expect(';', "';'")
			if p.tree.Plugin {
				p.fail(p.errorf(pos, "/delete-node/ is not supported in an overlay"))
			}
			n := p.lookupRef(ref)
			if n == nil {
				p.fail(p.errorf(ref.Pos, "Label or path %s not found", refName(ref)))
			}
			if n.Parent == nil {
				p.fail(p.errorf(ref.Pos, "the root node cannot be deleted"))
			}
			p.deleteNode(n.Parent, n)
			continue
		}
		switch p.peek() {
		case '/':
			p.advance(1)
			p.body(p.tree.Root, 1)
		case '&':
			ref := p.reference()
			if p.tree.Plugin {
				p.body(p.fragment(ref), 3)
				break
			}
			n := p.lookupRef(ref)
			if n == nil {
				p.fail(p.errorf(ref.Pos, "Label or path %s not found", refName(ref)))
			}
			p.body(n, depth(n)+1)
		default:
			p.fail(p.errorf(pos, "syntax error: expected '/ {', '&label {' or /delete-node/ at top level, found %s", p.found()))
		}
		p.expect(';', "';' after the node's '}'")
	}
}

// refName is the reference as dtc names it in "Label or path X not found".
func refName(r Ref) string {
	if r.Label != "" {
		return r.Label
	}
	return r.Path
}

// depth returns how deep n is: 1 for the root.
func depth(n *Node) int {
	d := 1
	for ; n.Parent != nil; n = n.Parent {
		d++
	}
	return d
}

// fragment is dtc's add_orphan_node for an overlay's top-level &ref { }:
// a node fragment@N of the root with target (a phandle cell referring to
// the label) or target-path, and a child __overlay__, which it returns.
func (p *parser) fragment(ref Ref) *Node {
	root := p.tree.Root
	var name string
	for {
		name = fmt.Sprintf("fragment@%d", p.fragments)
		p.fragments++
		if root.Child(name) == nil {
			break
		}
	}
	frag := p.newNode(name, root, ref.Pos)
	var target *Property
	if ref.Label != "" {
		ref.Offset = 0
		target = &Property{Name: "target", Pos: ref.Pos, parts: []part{{data: []byte{0xff, 0xff, 0xff, 0xff}, cellRefs: []Ref{ref}}}}
	} else {
		target = &Property{Name: "target-path", Pos: ref.Pos, parts: []part{{data: append([]byte(ref.Path), 0)}}}
	}
	p.countProp(ref.Pos)
	frag.Props = []*Property{target}
	ov := p.newNode("__overlay__", frag, ref.Pos)
	frag.Children = []*Node{ov}
	root.Children = append(root.Children, frag)
	return ov
}

// reference reads &label or &{/path} at the cursor.
func (p *parser) reference() Ref {
	pos := p.pos()
	p.advance(1) // '&'
	if p.peek() == '{' {
		p.advance(1)
		start := p.off
		for !p.eof() && p.peek() != '}' && (isNameChar(p.peek()) || p.peek() == '/') {
			p.advance(1)
		}
		path := string(p.src[start:p.off])
		if p.peek() != '}' {
			p.fail(p.errorf(p.pos(), "syntax error: expected '}' closing the path reference, found %s", p.found()))
		}
		p.advance(1)
		if path == "" || path[0] != '/' {
			p.fail(p.errorf(pos, "a path reference must be a full path, starting with /: &{%s}", path))
		}
		return Ref{Path: path, Pos: pos}
	}
	l := p.label()
	if l == "" {
		p.fail(p.errorf(p.pos(), "syntax error: expected a label or {/path} after '&', found %s", p.found()))
	}
	return Ref{Label: l, Pos: pos}
}

// lookupRef finds the node a reference names in the tree so far.
func (p *parser) lookupRef(r Ref) *Node {
	if r.Label != "" {
		return p.tree.labels[r.Label]
	}
	return p.tree.Lookup(r.Path)
}

// body reads a node body, { properties; subnodes; }, into n, merging into
// what n already has. Within one body a name may be given once.
func (p *parser) body(n *Node, d int) {
	if d > MaxDepth {
		p.fail(p.tooBig(p.pos(), "nodes nested more than %d deep", MaxDepth))
	}
	p.skipSpace()
	open := p.pos()
	p.expect('{', "'{'")
	seenChild := false
	propsHere := map[string]bool{}
	kidsHere := map[string]bool{}
	for {
		p.skipSpace()
		if p.eof() {
			p.fail(p.errorf(p.pos(), "syntax error: end of file inside the node opened at %s", open))
		}
		if p.peek() == '}' {
			p.advance(1)
			return
		}
		pos := p.pos()
		if w := p.directive(); w != "" {
			p.skipSpace()
			npos := p.pos()
			name := p.name()
			if name == "" {
				p.fail(p.errorf(npos, "syntax error: expected a name after /%s/, found %s", w, p.found()))
			}
			p.expect(';', "';'")
			switch w {
			case "delete-property":
				n.Props = slices.DeleteFunc(n.Props, func(x *Property) bool { return x.Name == name })
				delete(propsHere, name)
			case "delete-node":
				if c := n.Child(name); c != nil {
					p.deleteNode(n, c)
				}
				delete(kidsHere, name)
			default:
				p.fail(p.errorf(pos, "syntax error: /%s/ is not allowed inside a node", w))
			}
			continue
		}
		var labels []string
		var labelPos []Pos
		for {
			m, lpos := p.save(), p.pos()
			l := p.label()
			if l != "" && p.peek() == ':' {
				p.advance(1)
				labels, labelPos = append(labels, l), append(labelPos, lpos)
				p.skipSpace()
				continue
			}
			p.restore(m)
			break
		}
		npos := p.pos()
		name := p.name()
		if name == "" {
			p.fail(p.errorf(npos, "syntax error: expected a property or node name, found %s", p.found()))
		}
		p.skipSpace()
		switch p.peek() {
		case '{':
			p.checkNodeName(name, npos)
			if kidsHere[name] {
				p.fail(p.errorf(npos, "Duplicate node name %s in %s", name, n.Path()))
			}
			kidsHere[name] = true
			seenChild = true
			child := n.Child(name)
			if child == nil {
				child = p.newNode(name, n, npos)
				n.Children = append(n.Children, child)
			}
			for i, l := range labels {
				p.addLabel(child, l, labelPos[i])
			}
			p.body(child, d+1)
			p.expect(';', "';' after the node's '}'")
		case '=', ';':
			p.checkPropName(name, npos)
			if seenChild {
				p.fail(p.errorf(npos, "Properties must precede subnodes (property %s after a subnode of %s)", name, n.Path()))
			}
			if propsHere[name] {
				p.fail(p.errorf(npos, "Duplicate property name %s in %s", name, n.Path()))
			}
			propsHere[name] = true
			prop := &Property{Name: name, Pos: npos}
			if p.peek() == '=' {
				p.advance(1)
				prop.parts = p.value()
				if len(prop.parts) == 0 {
					prop.parts = []part{{}}
				}
			} else {
				prop.parts = []part{{}}
			}
			p.expect(';', "';' after the property")
			p.countProp(npos)
			if i := slices.IndexFunc(n.Props, func(x *Property) bool { return x.Name == name }); i >= 0 {
				n.Props[i] = prop // a later definition wins (merge)
			} else {
				n.Props = append(n.Props, prop)
			}
		default:
			p.fail(p.errorf(p.pos(), "syntax error: expected '{', '=' or ';' after %s, found %s", name, p.found()))
		}
	}
}

// countProp counts a property against MaxProperties.
func (p *parser) countProp(pos Pos) {
	p.props++
	if p.props > MaxProperties {
		p.fail(p.tooBig(pos, "more than %d properties", MaxProperties))
	}
}

// addLabel gives n the label l, refusing a label another node has.
func (p *parser) addLabel(n *Node, l string, pos Pos) {
	if other := p.tree.labels[l]; other != nil && other != n {
		p.fail(p.errorf(pos, "Duplicate label '%s' on %s and %s", l, n.Path(), other.Path()))
	}
	p.tree.labels[l] = n
	if !slices.Contains(n.Labels, l) {
		n.Labels = append(n.Labels, l)
	}
}

// deleteNode removes c from its parent n, with the labels of its subtree.
func (p *parser) deleteNode(n, c *Node) {
	n.Children = slices.DeleteFunc(n.Children, func(x *Node) bool { return x == c })
	var forget func(x *Node)
	forget = func(x *Node) {
		x.deleted = true
		for _, l := range x.Labels {
			if p.tree.labels[l] == x {
				delete(p.tree.labels, l)
			}
		}
		for _, k := range x.Children {
			forget(k)
		}
	}
	forget(c)
}

// checkNodeName is dtc's node_name_chars and node_name_format checks: a
// base name of [a-zA-Z0-9,._+-], then at most one '@' and a unit address
// of the same characters.
func (p *parser) checkNodeName(name string, pos Pos) {
	at := -1
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '@':
			if at >= 0 {
				p.fail(p.errorf(pos, "multiple '@' characters in node name %s", name))
			}
			at = i
		case c == '#' || c == '?' || c == '*':
			p.fail(p.errorf(Pos{pos.Line, pos.Col + i}, "Bad character '%c' in node name %s", c, name))
		}
	}
	if at == 0 {
		p.fail(p.errorf(pos, "node name %s has a unit address but no name", name))
	}
	if at == len(name)-1 {
		p.fail(p.errorf(pos, "node name %s has an empty unit address", name))
	}
}

// checkPropName is dtc's property_name_chars check: [a-zA-Z0-9,._+?#-].
func (p *parser) checkPropName(name string, pos Pos) {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '@' || c == '*' {
			p.fail(p.errorf(Pos{pos.Line, pos.Col + i}, "Bad character '%c' in property name %s", c, name))
		}
	}
}
