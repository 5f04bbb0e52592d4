package chardev

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Active runs a driver's file operations under active references, and
// revokes them: the file-operation drain that reviewers of revocable
// proposed for character devices instead of a try-access in every driver.
// It is what kernfs does for sysfs files (kernfs_get_active and
// kernfs_put_active around every operation, kernfs_drain and
// kernfs_drain_open_files at removal), what debugfs does
// (debugfs_file_get/put in its full proxy file operations, removal
// waiting for the active users), and what a cdev-level revoke would do
// for character devices (proposed, not in mainline; FreeBSD's destroy_dev
// does it for its devfs).
//
// The driver hands its FileOperations to NewActive and registers the
// proxy, Fops, in its place (cdev_init, usb_class_driver.fops). Every call
// through the proxy takes an active reference first and drops it when the
// driver's operation returns. Revoke (cdev_revoke) refuses new calls, waits
// until the calls in flight have returned, runs the driver's Release for
// every file still open, and detaches those files from the cdev they were
// opened through (dropping their cdev references). After Revoke no code
// of the driver runs for those files again: their operations fail with
// ErrNoDevice (poll answers PollErr|PollHup), their close runs nothing of
// the driver's, and the driver may free everything its operations use,
// the memory its cdev is embedded in included. Cdev.Del revokes the
// Active whose proxy the cdev was initialised with.
//
// The price: every operation of every file pays for the active reference
// (a mutex here; a counter in kernfs), Revoke waits for whatever the
// operations in flight wait for (a read blocked on the hardware must be
// woken or time out), and a driver's operation must not revoke its own
// Active (it would wait for itself; the Active reports it and waits only
// for the others).
//
// An Active belongs to one machine; its methods are safe for concurrent
// use.
type Active struct {
	e    *env.Env
	name string
	fops *FileOperations
	prox FileOperations

	mu        sync.Mutex
	cond      *sync.Cond
	active    int                   // calls in flight (active references)
	releasing int                   // driver Releases running from a last fput
	holders   map[env.Owner]*holder // who holds the active references
	revoked   bool
	drained   bool
	files     []*File // open, in open order, not yet released
}

// NewActive returns an Active for the driver's file operations fops, named
// name in traces (the device node, e.g. "sensor0"), in h's machine.
func NewActive(h env.Host, name string, fops *FileOperations) *Active {
	if fops == nil {
		fops = &FileOperations{}
	}
	a := &Active{e: env.Of(h), name: name, fops: fops, holders: map[env.Owner]*holder{}}
	a.cond = sync.NewCond(&a.mu)
	a.prox = a.proxy()
	a.prox.active = a
	return a
}

// Fops returns the proxy file operations to register in place of the
// driver's: the same operations (nil where the driver's are nil), each
// under an active reference.
func (a *Active) Fops() *FileOperations { return &a.prox }

// Revoked reports whether Revoke has begun.
func (a *Active) Revoked() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revoked
}

// Calls returns the number of driver operations in flight.
func (a *Active) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.active + a.releasing
}

// Files returns the number of open files the driver has not released.
func (a *Active) Files() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.files)
}

func (a *Active) emit(kind trace.Kind, fn, msg string) {
	a.e.Log().Emit(trace.Event{Kind: kind, Dev: a.name, Func: fn, Msg: msg})
}

// get takes an active reference (kernfs_get_active, debugfs_file_get);
// false once the Active is revoked.
func (a *Active) get() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revoked {
		return false
	}
	a.active++
	me := a.e.Holder()
	h := a.holders[me.Owner]
	if h == nil {
		h = &holder{name: me.String()}
		a.holders[me.Owner] = h
	}
	h.n++
	return true
}

// holder is a task holding active references.
type holder struct {
	name string
	n    int
}

// put drops an active reference (kernfs_put_active, debugfs_file_put);
// the last one wakes a Revoke waiting for the calls to drain.
func (a *Active) put() {
	a.mu.Lock()
	a.active--
	me := a.e.Self()
	if h := a.holders[me]; h != nil {
		if h.n--; h.n == 0 {
			delete(a.holders, me)
		}
	}
	a.cond.Broadcast()
	a.mu.Unlock()
}

// gone is the error of an operation refused after Revoke.
func (a *Active) gone(op string) error {
	return fmt.Errorf("%s %s: file operations revoked: %w", op, a.name, ErrNoDevice)
}

// proxy builds the proxy operations: each the driver's, or nil.
func (a *Active) proxy() FileOperations {
	d := a.fops
	var p FileOperations
	// Open always runs through the proxy: it tracks the file.
	p.Open = a.open
	p.Release = a.release
	if d.Read != nil {
		p.Read = func(f *File, n int) ([]byte, error) {
			if !a.get() {
				return nil, a.gone("read")
			}
			defer a.put()
			return d.Read(f, n)
		}
	}
	if d.Write != nil {
		p.Write = func(f *File, b []byte) (int, error) {
			if !a.get() {
				return 0, a.gone("write")
			}
			defer a.put()
			return d.Write(f, b)
		}
	}
	if d.UnlockedIoctl != nil {
		p.UnlockedIoctl = func(f *File, cmd uint, arg any) (int, error) {
			if !a.get() {
				return 0, a.gone("ioctl")
			}
			defer a.put()
			return d.UnlockedIoctl(f, cmd, arg)
		}
	}
	if d.Mmap != nil {
		p.Mmap = func(f *File, off uint64) (any, error) {
			if !a.get() {
				return nil, a.gone("mmap")
			}
			defer a.put()
			return d.Mmap(f, off)
		}
	}
	if d.Poll != nil {
		p.Poll = func(f *File) PollMask {
			if !a.get() {
				return PollErr | PollHup
			}
			defer a.put()
			return d.Poll(f)
		}
	}
	if d.Flush != nil {
		p.Flush = func(f *File) error {
			if !a.get() {
				return nil // the driver is gone: nothing of it to flush
			}
			defer a.put()
			return d.Flush(f)
		}
	}
	return p
}

// open is the proxy's Open: refused once revoked; the file is tracked
// from before the driver's Open runs (a Revoke that starts meanwhile
// waits for the Open and then releases the file it opened).
func (a *Active) open(f *File) error {
	if !a.get() {
		return a.gone("open")
	}
	defer a.put()
	a.mu.Lock()
	a.files = append(a.files, f)
	a.mu.Unlock()
	if open := a.fops.Open; open != nil {
		if err := open(f); err != nil {
			a.untrack(f)
			return err
		}
	}
	return nil
}

// untrack forgets f and reports whether it was tracked (not yet released).
func (a *Active) untrack(f *File) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, g := range a.files {
		if g == f {
			a.files = append(a.files[:i], a.files[i+1:]...)
			return true
		}
	}
	return false
}

// release is the proxy's Release, at the file's last fput: the driver's
// Release, unless Revoke already ran it. Revoke waits for one in flight.
func (a *Active) release(f *File) error {
	a.mu.Lock()
	tracked := false
	for i, g := range a.files {
		if g == f {
			a.files = append(a.files[:i], a.files[i+1:]...)
			tracked = true
			break
		}
	}
	if tracked {
		a.releasing++
	}
	a.mu.Unlock()
	if !tracked {
		return nil // released by Revoke
	}
	defer func() {
		a.mu.Lock()
		a.releasing--
		a.cond.Broadcast()
		a.mu.Unlock()
	}()
	if rel := a.fops.Release; rel != nil {
		return rel(f)
	}
	return nil
}

// drainedLocked reports whether no driver operation is in flight other
// than the caller's own (self: the active references the caller holds).
func (a *Active) drainedLocked(self int) bool { return a.active == self && a.releasing == 0 }

// holderLocked names a task holding an active reference, for a hung
// Revoke's wait-for chain: the least name, so that reports are
// deterministic; "" when none.
func (a *Active) holderLocked() string {
	least := ""
	for _, h := range a.holders {
		if h.n > 0 && (least == "" || h.name < least) {
			least = h.name
		}
	}
	return least
}

// Revoke is cdev_revoke (after kernfs_drain and kernfs_drain_open_files):
// from now on every operation through the proxy fails with ErrNoDevice
// and opens fail too; it waits until the driver's operations in flight
// have returned; then it runs the driver's Release for every file still
// open, in the order they were opened, and detaches each from its cdev
// (the cdev reference the file held is dropped now rather than at its
// last fput). It may sleep. A second call waits for the first to finish.
// Called from inside one of the Active's own operations, it would wait
// for itself: that is reported (a lockdep BUG under the simulator, a
// report and a trace.Warn otherwise) and only the other calls are waited
// for.
func (a *Active) Revoke() {
	a.e.MightSleep("cdev_revoke " + a.name)
	me := a.e.Self()
	a.mu.Lock()
	if a.revoked {
		for !a.drained {
			a.waitLocked("cdev_revoke "+a.name+" (another revoke)", func() bool { return a.drained })
		}
		a.mu.Unlock()
		return
	}
	a.revoked = true
	self := 0
	if h := a.holders[me]; h != nil {
		self = h.n
	}
	calls := a.active + a.releasing - self
	a.mu.Unlock()
	if self > 0 {
		a.e.Report("cdev_revoke", &env.Report{
			Kind:    env.BugLockdep,
			Title:   "BUG: cdev_revoke " + a.name + " from inside one of its own file operations",
			Details: "the revoke would wait for the caller's own active reference; it waits for the others only\n",
		})
	}
	a.emit(Kind, "cdev_revoke", fmt.Sprintf("new calls refused, draining %d active call(s)", calls))
	a.mu.Lock()
	a.waitLocked("cdev_revoke "+a.name+" (active file operations)", func() bool { return a.drainedLocked(self) })
	files := a.files
	a.files = nil
	a.mu.Unlock()
	for _, f := range files {
		var err error
		if rel := a.fops.Release; rel != nil {
			err = rel(f)
		}
		f.detachCdev()
		a.emit(Kind, "cdev_revoke", fmt.Sprintf("%s: release %s, cdev reference dropped", f.path, errno(err)))
	}
	a.mu.Lock()
	a.drained = true
	a.cond.Broadcast()
	a.mu.Unlock()
	a.emit(Kind, "cdev_revoke", fmt.Sprintf("done: %d open file(s) released and detached", len(files)))
}

// waitLocked waits, with a.mu held, until ready() (evaluated with a.mu
// held): through the scheduler under the simulator, naming the holders of
// active references in a deadlock report; on a.cond otherwise.
func (a *Active) waitLocked(what string, ready func() bool) {
	if ready() {
		return
	}
	if s := a.e.Scheduler(); s != nil {
		a.mu.Unlock()
		s.Block(sched.Wait{What: what, Holder: func() string {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.holderLocked()
		}}, func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			return ready()
		})
		a.mu.Lock()
		return
	}
	for !ready() {
		a.cond.Wait()
	}
}
