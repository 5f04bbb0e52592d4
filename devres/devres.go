// Package devres models the kernel's managed device resources
// (drivers/base/devres.c): a per-device list of actions that the driver core
// runs, last-in-first-out, when a probe fails or the device is unbound.
//
// A driver registers an action with Add (devm_add_action) right after it
// acquires something; it never has to undo it by hand on an error path or in
// remove(), because ReleaseAll (devres_release_all) runs every action in
// reverse order of registration. Groups (devres_open_group and friends) mark
// a stretch of the list so that part of it can be released early.
//
// What the kernel does when an action adds new devres while ReleaseAll runs,
// and so what this package does: ReleaseAll first detaches every entry from
// the device's list, then runs the detached entries. Anything added during
// the release lands on the now empty list and is not run by that call; it
// stays registered until the next ReleaseAll. Nothing is lost, and release
// never loops. (In the kernel the next really_probe would then warn that
// resources are present before probing.)
package devres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Errors returned by List. Every misuse the kernel would WARN on also emits a
// trace.Warn event.
var (
	// ErrNoMemory is devres_alloc failing, the kernel's -ENOMEM; it only
	// happens through fault injection.
	ErrNoMemory = errors.New("devres: cannot allocate devres (-ENOMEM)")
	// ErrNotFound is an unknown, removed or already released handle or group
	// (the kernel's WARN_ON plus -ENOENT in devres_destroy/devres_release).
	ErrNotFound = errors.New("devres: no such devres (-ENOENT)")
	// ErrInvalid is a call that makes no sense for the entry given, such as
	// closing a group twice or passing a nil action (-EINVAL).
	ErrInvalid = errors.New("devres: invalid argument (-EINVAL)")
)

// Action is a managed release action, the kernel's void (*action)(void *).
type Action func()

type nodeKind uint8

const (
	kindAction nodeKind = iota
	kindGroupOpen
	kindGroupClose
)

// node is one entry of the devres list: an action or a group marker.
type node struct {
	prev, next *node
	list       *List // nil once the node is off the list
	kind       nodeKind
	name       string
	fn         Action
	group      *Group
	origin     *env.Origin // where it was added (under a simulator)
}

// Handle identifies one action on a List, as returned by Add. The kernel
// identifies an action by its (function, data) pair; drvsim hands out a
// handle instead so that two identical actions are never confused.
type Handle struct{ n *node }

// Valid reports whether h was returned by a successful Add.
func (h Handle) Valid() bool { return h.n != nil }

// Name returns the name the action was added with.
func (h Handle) Name() string {
	if h.n == nil {
		return ""
	}
	return h.n.name
}

// Group is a devres group (devres_open_group): markers in the list that
// delimit the actions added between OpenGroup and CloseGroup.
type Group struct {
	name        string
	open, close node
	removed     bool
}

// Name returns the name the group was opened with.
func (g *Group) Name() string { return g.name }

// List is one device's devres list. The zero value is not usable; create
// lists with NewList. List is safe for concurrent use; actions run without
// the list's lock held, so an action may add to the list.
type List struct {
	mu    sync.Mutex
	head  node // sentinel: head.next is the oldest entry
	owner string
	n     int // number of actions (not markers) on the list

	e     *env.Env // nil until Attach: untraced, no schedule points
	fault func(point string) error
}

// NewList returns an empty devres list for the device at path owner (used
// in trace events; may be empty).
func NewList(owner string) *List {
	l := &List{owner: owner}
	l.head.prev, l.head.next = &l.head, &l.head
	return l
}

// SetOwner changes the device path used in trace events.
func (l *List) SetOwner(owner string) {
	l.mu.Lock()
	l.owner = owner
	l.mu.Unlock()
}

// Attach puts the list in its device's environment (device_initialize
// does it): the list traces into e's log and, under a simulator, every
// released action is a schedule point and Add consults the fault point
// sched.FaultDevresAdd. A list never attached is untraced.
func (l *List) Attach(e *env.Env) {
	l.mu.Lock()
	l.e = e
	l.mu.Unlock()
}

func (l *List) env() *env.Env {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e
}

// SetFaultHook installs a function consulted on every allocation (Add,
// AddOrReset, OpenGroup) with the fault point name sched.FaultDevresAdd; a
// non-nil return makes the allocation fail with ErrNoMemory. It models the
// kernel's failslab. Off (nil) by default.
func (l *List) SetFaultHook(f func(point string) error) {
	l.mu.Lock()
	l.fault = f
	l.mu.Unlock()
}

func (l *List) emit(kind trace.Kind, fn, msg string) {
	l.mu.Lock()
	e, owner := l.e, l.owner
	l.mu.Unlock()
	if e != nil {
		e.Log().Emit(trace.Event{Kind: kind, Dev: owner, Func: fn, Msg: msg})
	}
}

// allocFails consults the fault hooks, like devres_alloc's kmalloc.
func (l *List) allocFails(fn string) error {
	l.mu.Lock()
	hook, e := l.fault, l.e
	l.mu.Unlock()
	var err error
	if hook != nil {
		err = hook(sched.FaultDevresAdd)
	}
	if err == nil && e != nil {
		err = e.Fault(sched.FaultDevresAdd)
	}
	if err != nil {
		l.emit(trace.Fault, fn, fmt.Sprintf("%s: %v", sched.FaultDevresAdd, err))
		return fmt.Errorf("%s: %w", fn, ErrNoMemory)
	}
	return nil
}

func (l *List) linkTail(n *node) {
	n.list = l
	n.prev = l.head.prev
	n.next = &l.head
	l.head.prev.next = n
	l.head.prev = n
	if n.kind == kindAction {
		l.n++
	}
}

func (l *List) unlink(n *node) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next, n.list = nil, nil, nil
	if n.kind == kindAction {
		l.n--
	}
}

// Add registers fn to run when the list is released (devm_add_action). It
// fails with ErrNoMemory only through fault injection, and then fn does not
// run; use AddOrReset to get the kernel's usual error handling.
func (l *List) Add(name string, fn Action) (Handle, error) {
	if fn == nil {
		l.emit(trace.Warn, "devm_add_action", "nil action "+name)
		return Handle{}, fmt.Errorf("devm_add_action %s: nil action: %w", name, ErrInvalid)
	}
	if err := l.allocFails("devm_add_action"); err != nil {
		return Handle{}, err
	}
	n := &node{kind: kindAction, name: name, fn: fn}
	if e := l.env(); e.Simulated() {
		o := e.Origin(0)
		n.origin = &o
	}
	l.mu.Lock()
	l.linkTail(n)
	l.mu.Unlock()
	l.emit(trace.DevresAdd, "devm_add_action", name)
	return Handle{n}, nil
}

// AddOrReset is devm_add_action_or_reset: like Add, but when adding fails
// the action runs at once and the error is returned, so the caller's
// resource is never leaked.
func (l *List) AddOrReset(name string, fn Action) (Handle, error) {
	h, err := l.Add(name, fn)
	if err != nil && fn != nil {
		l.runAction("devm_add_action_or_reset", name, fn)
	}
	return h, err
}

// runAction runs one action. An action that panics is an oops
// (env.Env.Oops: a trace.Oops event and a report); runAction returns as if
// the action had, so that the actions after it still run.
func (l *List) runAction(caller, name string, fn Action) {
	e := l.env()
	e.Yield(sched.Point{Kind: "devres", Func: caller, Obj: name})
	l.emit(trace.DevresRelease, "devm_action_release", name)
	l.mu.Lock()
	owner := l.owner
	l.mu.Unlock()
	wt := e.Watch(env.Watched{What: "devres action", Obj: name, Func: "devm_action_release", Dev: owner})
	defer wt.Done()
	defer func() {
		if v := recover(); v != nil {
			env.Of(e).Oops(v, env.OopsSite{Func: "devm_action_release", Callback: "devres action " + name, Dev: owner})
		}
	}()
	fn()
}

// take detaches the action behind h, or reports why it cannot.
func (l *List) take(h Handle, fn string) (*node, error) {
	l.mu.Lock()
	n := h.n
	if n == nil || n.list != l || n.kind != kindAction {
		l.mu.Unlock()
		l.emit(trace.Warn, fn, "no such action "+h.Name())
		return nil, fmt.Errorf("%s %q: %w", fn, h.Name(), ErrNotFound)
	}
	l.unlink(n)
	l.mu.Unlock()
	return n, nil
}

// Remove drops the action behind h without running it (devm_remove_action).
// An unknown, removed or released handle gives ErrNotFound.
func (l *List) Remove(h Handle) error {
	n, err := l.take(h, "devm_remove_action")
	if err != nil {
		return err
	}
	l.emit(trace.DevresRelease, "devm_remove_action", n.name+" (not run)")
	return nil
}

// Release drops the action behind h and runs it now (devm_release_action).
// An unknown, removed or released handle gives ErrNotFound.
func (l *List) Release(h Handle) error {
	n, err := l.take(h, "devm_release_action")
	if err != nil {
		return err
	}
	l.runAction("devm_release_action", n.name, n.fn)
	return nil
}

// Len returns the number of actions (not counting group markers) registered.
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Empty reports whether the list holds nothing at all, group markers
// included; really_probe refuses to probe a device whose list is not empty.
func (l *List) Empty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head.next == &l.head
}

// Pending describes the registered actions, oldest first, one string each:
// the name and, under a simulator, where it was added. Leak reports print
// them.
func (l *List) Pending() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for n := l.head.next; n != &l.head; n = n.next {
		if n.kind != kindAction {
			continue
		}
		s := "  action " + n.name
		if n.origin != nil {
			s += ", added " + strings.ReplaceAll(n.origin.String(), "\n", "\n  ")
		}
		out = append(out, s)
	}
	return out
}

// Names returns the names of the registered actions, oldest first.
func (l *List) Names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for n := l.head.next; n != &l.head; n = n.next {
		if n.kind == kindAction {
			out = append(out, n.name)
		}
	}
	return out
}

// ReleaseAll is devres_release_all: it detaches every entry, then runs the
// detached actions newest first, each exactly once, and returns how many ran.
// See the package documentation for actions that add devres meanwhile.
func (l *List) ReleaseAll() int {
	l.mu.Lock()
	if l.head.next == &l.head {
		l.mu.Unlock()
		return 0
	}
	todo := l.detach(l.head.next, &l.head)
	l.mu.Unlock()
	return l.runTodo("devres_release_all", todo)
}

// detach removes the entries from first up to (not including) end, with the
// kernel's group rule (remove_nodes): every action in the range goes; a
// group's markers go only when the group lies wholly in the range (both
// markers, or just the open marker of a still open group). It returns the
// actions in list order. Called with l.mu held.
func (l *List) detach(first, end *node) []*node {
	var todo []*node
	var groups []*node
	for n := first; n != end; {
		next := n.next
		if n.kind == kindAction {
			l.unlink(n)
			todo = append(todo, n)
		} else {
			groups = append(groups, n)
		}
		n = next
	}
	color := map[*Group]int{}
	var order []*Group
	for _, m := range groups {
		g := m.group
		if _, seen := color[g]; !seen {
			order = append(order, g)
		}
		color[g]++
		if m.kind == kindGroupOpen && g.close.list == nil {
			color[g]++ // an open group needs only its opening marker
		}
	}
	for _, g := range order {
		if color[g] == 2 {
			if g.open.list != nil {
				l.unlink(&g.open)
			}
			if g.close.list != nil {
				l.unlink(&g.close)
			}
			g.removed = true
		}
	}
	return todo
}

// runTodo runs the detached actions newest first. It is a postponed
// stretch of the environment (env.Env.PostponeBegin): an oops in one
// action fails a simulated run only after every action has run.
func (l *List) runTodo(caller string, todo []*node) int {
	if e := l.env(); e != nil {
		e.PostponeBegin()
		defer e.PostponeEnd()
	}
	for i := len(todo) - 1; i >= 0; i-- {
		l.runAction(caller, todo[i].name, todo[i].fn)
	}
	return len(todo)
}

// OpenGroup is devres_open_group: it opens a (possibly nested) group; the
// actions added until CloseGroup belong to it. It fails with ErrNoMemory
// only through fault injection.
func (l *List) OpenGroup(name string) (*Group, error) {
	if err := l.allocFails("devres_open_group"); err != nil {
		return nil, err
	}
	g := &Group{name: name}
	g.open = node{kind: kindGroupOpen, group: g, name: name}
	g.close = node{kind: kindGroupClose, group: g, name: name}
	l.mu.Lock()
	l.linkTail(&g.open)
	l.mu.Unlock()
	l.emit(trace.DevresGroup, "devres_open_group", name)
	return g, nil
}

func (l *List) findGroup(g *Group, fn string) error {
	if g == nil || g.removed || g.open.list != l {
		name := ""
		if g != nil {
			name = g.name
		}
		return fmt.Errorf("%s %q: %w", fn, name, ErrNotFound)
	}
	return nil
}

// CloseGroup is devres_close_group: actions added from now on no longer
// belong to g. Closing an unknown or already closed group is an error.
func (l *List) CloseGroup(g *Group) error {
	l.mu.Lock()
	err := l.findGroup(g, "devres_close_group")
	if err == nil && g.close.list != nil {
		err = fmt.Errorf("devres_close_group %q: already closed: %w", g.name, ErrInvalid)
	}
	if err != nil {
		l.mu.Unlock()
		l.emit(trace.Warn, "devres_close_group", err.Error())
		return err
	}
	l.linkTail(&g.close)
	l.mu.Unlock()
	l.emit(trace.DevresGroup, "devres_close_group", g.name)
	return nil
}

// RemoveGroup is devres_remove_group: it forgets the group's markers and
// keeps its actions on the list, where ReleaseAll will find them.
func (l *List) RemoveGroup(g *Group) error {
	l.mu.Lock()
	if err := l.findGroup(g, "devres_remove_group"); err != nil {
		l.mu.Unlock()
		l.emit(trace.Warn, "devres_remove_group", err.Error())
		return err
	}
	l.unlink(&g.open)
	if g.close.list != nil {
		l.unlink(&g.close)
	}
	g.removed = true
	l.mu.Unlock()
	l.emit(trace.DevresGroup, "devres_remove_group", g.name)
	return nil
}

// ReleaseGroup is devres_release_group: it runs, newest first, the actions
// added between g's open and close markers (to the end of the list while g
// is still open), nested groups included, and returns how many ran. Actions
// outside g are untouched.
func (l *List) ReleaseGroup(g *Group) (int, error) {
	l.mu.Lock()
	if err := l.findGroup(g, "devres_release_group"); err != nil {
		l.mu.Unlock()
		l.emit(trace.Warn, "devres_release_group", err.Error())
		return 0, err
	}
	end := &l.head
	if g.close.list != nil {
		end = g.close.next
	}
	todo := l.detach(&g.open, end)
	l.mu.Unlock()
	l.emit(trace.DevresGroup, "devres_release_group", g.name)
	return l.runTodo("devres_release_group", todo), nil
}

// Count renders n actions as devres_release_all's trace line says it:
// "0 actions", "1 action", "3 actions".
func Count(n int) string {
	if n == 1 {
		return "1 action"
	}
	return strconv.Itoa(n) + " actions"
}
