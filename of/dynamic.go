package of

import (
	"fmt"
	"slices"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// ReconfigAction is an OF_RECONFIG_* action: what a changeset entry does
// to the live tree, as the reconfiguration notifiers hear it.
type ReconfigAction int

// Reconfiguration actions.
const (
	// AttachNode is OF_RECONFIG_ATTACH_NODE.
	AttachNode ReconfigAction = iota + 1
	// DetachNode is OF_RECONFIG_DETACH_NODE.
	DetachNode
	// AddProperty is OF_RECONFIG_ADD_PROPERTY.
	AddProperty
	// RemoveProperty is OF_RECONFIG_REMOVE_PROPERTY.
	RemoveProperty
	// UpdateProperty is OF_RECONFIG_UPDATE_PROPERTY.
	UpdateProperty
)

var actionNames = map[ReconfigAction]string{
	AttachNode: "ATTACH_NODE", DetachNode: "DETACH_NODE", AddProperty: "ADD_PROPERTY",
	RemoveProperty: "REMOVE_PROPERTY", UpdateProperty: "UPDATE_PROPERTY",
}

// String returns the kernel's name without its prefix, e.g. "ATTACH_NODE".
func (a ReconfigAction) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("RECONFIG_%d", int(a))
}

// invert is the action that undoes a.
func (a ReconfigAction) invert() ReconfigAction {
	switch a {
	case AttachNode:
		return DetachNode
	case DetachNode:
		return AttachNode
	case AddProperty:
		return RemoveProperty
	case RemoveProperty:
		return AddProperty
	}
	return UpdateProperty
}

// ReconfigData is struct of_reconfig_data: the node an action is about
// and, for a property action, the property (and the one it replaced).
type ReconfigData struct {
	Node    *Node
	Prop    *Property
	OldProp *Property
}

// StateChange is what a reconfiguration means for a node's device
// (of_reconfig_get_state_change).
type StateChange int

// State changes.
const (
	// NoChange is OF_RECONFIG_NO_CHANGE.
	NoChange StateChange = iota
	// ChangeAdd is OF_RECONFIG_CHANGE_ADD: the node became available
	// (attached, or its status turned "okay"): make its device.
	ChangeAdd
	// ChangeRemove is OF_RECONFIG_CHANGE_REMOVE: the node went (detached,
	// or its status turned away from "okay"): destroy its device.
	ChangeRemove
)

// statusState is the status of a property value: -1 absent, 1 okay, 0
// anything else.
func statusState(p *Property) int {
	if p == nil {
		return -1
	}
	return b2i(statusOkay(p.Value))
}

// ReconfigGetStateChange is of_reconfig_get_state_change: an attached node
// is enabled unless its status says otherwise, a detached one disabled; a
// status added, removed or updated is compared before and after (absent
// counts as enabled).
func ReconfigGetStateChange(action ReconfigAction, rd ReconfigData) StateChange {
	prev, next := -1, -1
	isStatus := rd.Prop != nil && rd.Prop.Name == "status"
	switch action {
	case AttachNode:
		s := statusState(rd.Node.Property("status"))
		prev, next = 0, b2i(s != 0)
	case DetachNode:
		s := statusState(rd.Node.Property("status"))
		prev, next = b2i(s != 0), 0
	case AddProperty:
		if isStatus {
			prev, next = 1, statusState(rd.Prop)
		}
	case RemoveProperty:
		if isStatus {
			prev, next = statusState(rd.Prop), 1
		}
	case UpdateProperty:
		if isStatus {
			prev, next = b2i(statusState(rd.OldProp) != 0), b2i(statusState(rd.Prop) != 0)
		}
	}
	if prev == next {
		return NoChange
	}
	if next != 0 {
		return ChangeAdd
	}
	return ChangeRemove
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReconfigNotifier is a callback on the tree's reconfiguration chain
// (of_reconfig_notifier_register): called for every entry of an applied
// or reverted changeset, after the whole changeset is in place. An error
// is the kernel's notifier_from_errno: it is reported to the caller of
// the overlay operation.
type ReconfigNotifier func(action ReconfigAction, rd ReconfigData) error

type notifier struct {
	id int
	fn ReconfigNotifier
}

// RegisterReconfigNotifier is of_reconfig_notifier_register; the function
// it returns unregisters it.
func (t *Tree) RegisterReconfigNotifier(fn ReconfigNotifier) (unregister func()) {
	t.mu.Lock()
	t.nextNotif++
	id := t.nextNotif
	t.notifiers = append(slices.Clone(t.notifiers), notifier{id, fn})
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.notifiers = slices.DeleteFunc(slices.Clone(t.notifiers), func(n notifier) bool { return n.id == id })
		t.mu.Unlock()
	}
}

// reconfigNotify is of_reconfig_notify: every notifier, in registration
// order; the first error is returned, the chain goes on.
func (t *Tree) reconfigNotify(action ReconfigAction, rd ReconfigData) error {
	t.mu.Lock()
	ns := t.notifiers
	t.mu.Unlock()
	msg := action.String()
	if rd.Prop != nil {
		msg += " " + rd.Prop.Name
	}
	t.emit(rd.Node.Path(), "of_reconfig_notify", msg)
	var first error
	for _, n := range ns {
		if err := n.fn(action, rd); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// entry is struct of_changeset_entry.
type entry struct {
	action ReconfigAction
	np     *Node
	prop   *Property
	old    *Property
}

// apply applies one entry to the tree (__of_changeset_entry_apply);
// called with t.mu held.
func (t *Tree) applyLocked(e *entry) {
	np := e.np
	switch e.action {
	case AttachNode:
		// __of_attach_node: at the head of the parent's children, and
		// assumed not to be a device until one is made for it.
		np.parent.children = append([]*Node{np}, np.parent.children...)
		np.flags &^= FlagDetached
		np.fw.Core().SetFlags(device.FwnodeNotDevice)
		if np.phandle != 0 {
			t.phandles[np.phandle] = np
		}
	case DetachNode:
		np.parent.children = slices.DeleteFunc(np.parent.children, func(x *Node) bool { return x == np })
		np.flags |= FlagDetached
		if np.phandle != 0 && t.phandles[np.phandle] == np {
			delete(t.phandles, np.phandle)
		}
	case AddProperty:
		np.props = append(np.props, e.prop)
	case RemoveProperty:
		np.props = slices.DeleteFunc(np.props, func(p *Property) bool { return p == e.prop })
	case UpdateProperty:
		for i, p := range np.props {
			if p == e.old {
				np.props[i] = e.prop
			}
		}
	}
}

// inverse is the entry that undoes e (__of_changeset_entry_invert).
func (e *entry) inverse() *entry {
	inv := &entry{action: e.action.invert(), np: e.np, prop: e.prop, old: e.old}
	if e.action == UpdateProperty {
		inv.prop, inv.old = e.old, e.prop
	}
	return inv
}

// notify sends e to the reconfiguration chain
// (__of_changeset_entry_notify).
func (t *Tree) notify(e *entry) error {
	return t.reconfigNotify(e.action, ReconfigData{Node: e.np, Prop: e.prop, OldProp: e.old})
}

// changesetEmit records a changeset step in the trace.
func (t *Tree) changesetEmit(fn string, entries []*entry) {
	t.e.Log().Emit(trace.Event{Kind: Kind, Func: fn, Msg: fmt.Sprintf("%d entries", len(entries))})
}
