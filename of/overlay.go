package of

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/of/dtc"
)

// Overlay is one applied overlay (struct overlay_changeset): its id, the
// source it came from and the changeset that put it in the tree.
type Overlay struct {
	tree    *Tree
	id      int
	file    string
	entries []*entry
	// symbols are the labels the overlay added, with what they named
	// before (nil for none).
	symbols map[string]*Node
	applied bool
}

// ID returns the overlay's id (ovcs_id), what RemoveOverlay takes.
func (o *Overlay) ID() int { return o.id }

// File returns the name of the overlay's source.
func (o *Overlay) File() string { return o.file }

// Nodes returns the nodes the overlay added, in changeset order.
func (o *Overlay) Nodes() []*Node {
	var out []*Node
	for _, e := range o.entries {
		if e.action == AttachNode {
			out = append(out, e.np)
		}
	}
	return out
}

// ApplyOverlay is of_overlay_fdt_apply: it reads the overlay source src
// (named file), resolves its references to the live tree's labels
// (of_resolve_phandles), builds the changeset of every fragment (the
// target's properties added or updated first, then its new nodes
// attached, each followed by its properties and its own children), applies
// every entry under of_mutex and then sends each to the reconfiguration
// notifiers, in order: once the tree is populated (ofplatform.Populate
// registers of_platform_notify), a device is made for a new available node
// whose parent is the root or a populated bus, and for a node whose status
// the overlay turns "okay".
//
// Errors, with nothing changed: the parser's *dtc.Error for a bad source
// (ErrInvalid with the line, ErrFileTooBig), ErrInvalid for a source that
// is not an overlay, a reference to a label the tree does not have, a
// fragment without a target or whose target does not exist, a change of
// #address-cells or #size-cells, or two fragments changing one node or
// property. When a notifier fails the overlay stays applied and is
// returned with the error, as the kernel returns its id: remove it with
// RemoveOverlay.
func (t *Tree) ApplyOverlay(file string, src []byte) (*Overlay, error) {
	parsed, err := dtc.Parse(file, src)
	if err != nil {
		return nil, err
	}
	if !parsed.Plugin {
		return nil, fmt.Errorf("of_overlay_fdt_apply %s: not an overlay (no /plugin/): %w", file, ErrInvalid)
	}
	t.ofMutex.Lock()
	defer t.ofMutex.Unlock()
	t.emit("", "of_overlay_fdt_apply", file)
	ov := &Overlay{tree: t, file: file, symbols: map[string]*Node{}}
	if err := t.resolvePhandles(parsed); err != nil {
		return nil, err
	}
	if err := ov.build(parsed); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.nextOvID++
	ov.id = t.nextOvID
	for _, e := range ov.entries {
		t.applyLocked(e)
	}
	for l, n := range ov.symbols {
		ov.symbols[l] = t.symbols[l]
		t.symbols[l] = n
	}
	t.overlays = append(t.overlays, ov)
	ov.applied = true
	t.mu.Unlock()
	t.changesetEmit("__of_changeset_apply_entries", ov.entries)
	var errs []error
	for _, e := range ov.entries {
		if err := t.notify(e); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return ov, fmt.Errorf("of_overlay_fdt_apply %s: overlay %d applied, a notifier failed: %w", file, ov.id, errors.Join(errs...))
	}
	return ov, nil
}

// resolvePhandles is of_resolve_phandles: the overlay's own phandles move
// above the live tree's largest (adjust_local_phandles, with the cells that
// refer to them), and every fixup takes the phandle of the live node its
// label names (update_usages_of_a_phandle_reference).
func (t *Tree) resolvePhandles(parsed *dtc.Tree) error {
	delta := t.maxPhandle()
	var errs error
	var walk func(n *dtc.Node)
	walk = func(n *dtc.Node) {
		for _, p := range n.Props {
			for _, r := range p.Refs {
				var ph uint32
				if r.Target != nil {
					ph = r.Target.Phandle + delta
				} else if target := t.FindByLabel(r.Label); target != nil {
					ph = target.Phandle()
					if ph == 0 {
						errs = errors.Join(errs, fmt.Errorf("%s:%s: of_resolve_phandles: node %s of label '%s' has no phandle: %w", parsed.File, r.Pos, target.Path(), r.Label, ErrInvalid))
						continue
					}
				} else {
					errs = errors.Join(errs, fmt.Errorf("%s:%s: of_resolve_phandles: node label '%s' not found in live devicetree symbols table: %w", parsed.File, r.Pos, r.Label, ErrInvalid))
					continue
				}
				binary.BigEndian.PutUint32(p.Value[r.Offset:], ph)
			}
			if (p.Name == "phandle" || p.Name == "linux,phandle") && len(p.Value) == 4 {
				binary.BigEndian.PutUint32(p.Value, binary.BigEndian.Uint32(p.Value)+delta)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(parsed.Root)
	var localWalk func(n *dtc.Node)
	localWalk = func(n *dtc.Node) {
		if n.Phandle != 0 {
			n.Phandle += delta
		}
		for _, c := range n.Children {
			localWalk(c)
		}
	}
	localWalk(parsed.Root)
	t.emit("", "of_resolve_phandles", fmt.Sprintf("%s: local phandles moved by %d", parsed.File, delta))
	return errs
}

// build is init_overlay_changeset plus build_changeset: every top-level
// node with an __overlay__ child is a fragment; its target is the node
// its target phandle or target-path names.
func (o *Overlay) build(parsed *dtc.Tree) error {
	t := o.tree
	added := map[*Node]map[string]bool{}
	props := map[*Node]map[string]bool{}
	for _, frag := range parsed.Root.Children {
		ovNode := frag.Child("__overlay__")
		if ovNode == nil {
			continue
		}
		var target *Node
		if p := frag.Prop("target"); p != nil {
			if len(p.Value) != 4 {
				return fmt.Errorf("%s: %s: target must be one phandle: %w", parsed.File, frag.Path(), ErrInvalid)
			}
			target = t.FindByPhandle(binary.BigEndian.Uint32(p.Value))
		} else if p := frag.Prop("target-path"); p != nil {
			path, ok := dtc.StringList(p.Value)
			if ok && len(path) == 1 {
				target = t.FindByPath(path[0])
			}
		} else {
			return fmt.Errorf("%s: %s: fragment without target or target-path: %w", parsed.File, frag.Path(), ErrInvalid)
		}
		if target == nil {
			return fmt.Errorf("%s:%s: %s: the fragment's target is not in the live tree: %w", parsed.File, frag.Pos, frag.Path(), ErrInvalid)
		}
		if err := o.level(parsed.File, target, ovNode, added, props); err != nil {
			return err
		}
	}
	if len(o.entries) == 0 {
		return fmt.Errorf("%s: the overlay has no fragment: %w", parsed.File, ErrInvalid)
	}
	return nil
}

// level is build_changeset_next_level: ov's properties onto target (added,
// or updated when present), then its children: merged into a child of the
// same name, or attached as new nodes.
func (o *Overlay) level(file string, target *Node, ov *dtc.Node, added map[*Node]map[string]bool, props map[*Node]map[string]bool) error {
	t := o.tree
	if props[target] == nil {
		props[target] = map[string]bool{}
	}
	for _, p := range ov.Props {
		if p.Name == "name" || p.Name == "phandle" || p.Name == "linux,phandle" {
			continue
		}
		if props[target][p.Name] {
			return fmt.Errorf("%s:%s: ERROR: multiple fragments add, update, and/or delete property %s/%s: %w", file, p.Pos, target.Path(), p.Name, ErrInvalid)
		}
		props[target][p.Name] = true
		np := &Property{Name: p.Name, Value: slices.Clone(p.Value)}
		old := target.Property(p.Name)
		if old == nil {
			o.entries = append(o.entries, &entry{action: AddProperty, np: target, prop: np})
			continue
		}
		if (p.Name == "#address-cells" || p.Name == "#size-cells") && string(old.Value) != string(np.Value) {
			return fmt.Errorf("%s:%s: ERROR: changing value of %s/%s not allowed: %w", file, p.Pos, target.Path(), p.Name, ErrInvalid)
		}
		o.entries = append(o.entries, &entry{action: UpdateProperty, np: target, prop: np, old: old})
	}
	for _, c := range ov.Children {
		if existing := target.Child(c.Name); existing != nil {
			if err := o.level(file, existing, c, added, props); err != nil {
				return err
			}
			continue
		}
		if added[target] == nil {
			added[target] = map[string]bool{}
		}
		if added[target][c.Name] {
			return fmt.Errorf("%s:%s: ERROR: multiple fragments add and/or delete node %s/%s: %w", file, c.Pos, target.Path(), c.Name, ErrInvalid)
		}
		added[target][c.Name] = true
		n := t.newNode(c.Name, target)
		n.flags = FlagDynamic | FlagOverlay | FlagDetached
		n.phandle = c.Phandle
		n.labels = slices.Clone(c.Labels)
		n.refs = 1 // the changeset's (of_changeset_attach_node)
		for _, l := range c.Labels {
			o.symbols[l] = n
		}
		o.entries = append(o.entries, &entry{action: AttachNode, np: n})
		if err := o.newLevel(n, c); err != nil {
			return err
		}
	}
	return nil
}

// newLevel fills a node the overlay attaches: its properties (ADD entries)
// and its children (attached in turn).
func (o *Overlay) newLevel(n *Node, ov *dtc.Node) error {
	for _, p := range ov.Props {
		if p.Name == "name" {
			continue
		}
		o.entries = append(o.entries, &entry{action: AddProperty, np: n, prop: &Property{Name: p.Name, Value: slices.Clone(p.Value)}})
	}
	for _, c := range ov.Children {
		child := o.tree.newNode(c.Name, n)
		child.flags = FlagDynamic | FlagOverlay | FlagDetached
		child.phandle = c.Phandle
		child.labels = slices.Clone(c.Labels)
		child.refs = 1
		for _, l := range c.Labels {
			o.symbols[l] = child
		}
		o.entries = append(o.entries, &entry{action: AttachNode, np: child})
		if err := o.newLevel(child, c); err != nil {
			return err
		}
	}
	return nil
}

// RemoveOverlay is of_overlay_remove: the overlay with that id is
// reverted: every entry undone in reverse order, then each undoing sent to
// the reconfiguration notifiers in that order, so a device made for an
// overlay node is destroyed (its consumers' drivers unbound first, by the
// driver core) after the node's properties are gone; then the changeset is
// destroyed, and an added node still referenced (a device or a file still
// holds it) is reported, as the kernel's "memory leak" error.
//
// Errors: ErrNoDevice for an unknown id; ErrBusy for an overlay that a
// later one overlaps (remove the later one first); a notifier's error is
// returned after the removal completes.
func (t *Tree) RemoveOverlay(id int) error {
	t.ofMutex.Lock()
	defer t.ofMutex.Unlock()
	t.mu.Lock()
	i := slices.IndexFunc(t.overlays, func(o *Overlay) bool { return o.id == id })
	if i < 0 {
		t.mu.Unlock()
		return fmt.Errorf("of_overlay_remove: no overlay %d: %w", id, ErrNoDevice)
	}
	ov := t.overlays[i]
	for _, later := range t.overlays[i+1:] {
		if ov.overlappedBy(later) {
			t.mu.Unlock()
			t.emit("", "of_overlay_remove", fmt.Sprintf("overlay %d: overlay #%d is not topmost", id, id))
			return fmt.Errorf("of_overlay_remove: overlay %d is overlapped by overlay %d, remove that first: %w", id, later.id, ErrBusy)
		}
	}
	t.overlays = slices.Delete(t.overlays, i, i+1)
	var undo []*entry
	for k := len(ov.entries) - 1; k >= 0; k-- {
		inv := ov.entries[k].inverse()
		t.applyLocked(inv)
		undo = append(undo, inv)
	}
	for l, prev := range ov.symbols {
		if prev != nil {
			t.symbols[l] = prev
		} else {
			delete(t.symbols, l)
		}
	}
	ov.applied = false
	t.mu.Unlock()
	t.emit("", "of_overlay_remove", fmt.Sprintf("overlay %d (%s)", id, ov.file))
	t.changesetEmit("__of_changeset_revert_entries", undo)
	var errs []error
	for _, e := range undo {
		if err := t.notify(e); err != nil {
			errs = append(errs, err)
		}
	}
	// of_changeset_destroy: entries freed in reverse; an attached node
	// must be held by the changeset alone.
	for k := len(ov.entries) - 1; k >= 0; k-- {
		e := ov.entries[k]
		if e.action != AttachNode {
			continue
		}
		if refs := e.np.Refs(); refs > 1 {
			t.warn(e.np, "__of_changeset_entry_destroy", fmt.Sprintf(
				"ERROR: memory leak, expected refcount 1 instead of %d, of_node_get()/of_node_put() unbalanced - destroy cset entry: attach overlay node %s", refs, e.np.Path()))
			continue
		}
		e.np.Put()
		// of_node_release: the node's fwnode links go with it
		// (fwnode_links_purge).
		for _, l := range append(e.np.fw.Suppliers(), e.np.fw.Consumers()...) {
			device.DelFwnodeLink(l)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("of_overlay_remove: overlay %d removed, a notifier failed: %w", id, errors.Join(errs...))
	}
	return nil
}

// overlappedBy is node_overlaps_later_cs: a node later changes is an
// ancestor of, or is, a node o changes.
func (o *Overlay) overlappedBy(later *Overlay) bool {
	for _, le := range later.entries {
		for _, e := range o.entries {
			for n := e.np; n != nil; n = n.parent {
				if n == le.np {
					return true
				}
			}
		}
	}
	return false
}
