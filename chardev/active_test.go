package chardev_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Operations pass through an Active until cdev_del revokes it; then every
// operation fails with -ENODEV without reaching the driver, the driver's
// Release has run once for the open file (at the revoke, not at the
// close), and the file no longer holds the cdev: the embedded cdev's
// memory may be freed before the file is closed.
func TestActiveRevokedByCdevDel(t *testing.T) {
	sys := newSystem(t)
	e := &echo{}
	a := chardev.NewActive(sys, "echo0", e.fops())
	mem := sys.Memory().Alloc("struct echo_dev")
	var cdev chardev.Cdev
	cdev.Init(sys, a.Fops())
	cdev.EmbedIn(mem)
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 1))
	f, err := chardev.OpenDevt(sys, devt)
	require.NoError(t, err)
	_, err = f.Write([]byte("hi"))
	require.NoError(t, err)
	b, err := f.Read(8)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(b))
	n, err := f.Ioctl(1, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	mask, err := f.Poll()
	require.NoError(t, err)
	assert.Equal(t, chardev.PollIn, mask)
	assert.Equal(t, 1, a.Files())
	assert.Equal(t, 2, cdev.Refs(), "cdev_init's and the file's")

	seq := sys.Log().Seq()
	cdev.Del()
	assert.True(t, a.Revoked())
	assert.Equal(t, 0, a.Files())
	assert.Equal(t, 1, e.releases, "the driver's release ran at the revoke")
	assert.Equal(t, 0, cdev.Refs(), "no file holds the cdev any more: it is released")
	mem.Free() // the driver frees the struct embedding the cdev

	_, err = f.Read(8)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	_, err = f.Ioctl(1, nil)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	mask, err = f.Poll()
	require.NoError(t, err)
	assert.Equal(t, chardev.PollErr|chardev.PollHup, mask)
	flushes := e.flushes
	require.NoError(t, f.Close())
	assert.Equal(t, flushes, e.flushes, "no flush of a revoked driver")
	assert.Equal(t, 1, e.releases, "the close runs nothing of the driver's")
	kept := sys.Memory().Reports()
	assert.Empty(t, kept, "the last fput touches no freed memory")
	assert.Empty(t, sys.Memory().Live())
	assert.Equal(t, []string{
		"cdev_del: 240:0, 1 file reference(s) left",
		"cdev_revoke echo0: new calls refused, draining 0 active call(s)",
		"cdev_revoke echo0: /dev/char/240:0: release 0, cdev reference dropped",
		"cdev_revoke echo0: done: 1 open file(s) released and detached",
		"vfs_read /dev/char/240:0: -ENODEV",
		"vfs_write /dev/char/240:0: -ENODEV",
		"vfs_ioctl /dev/char/240:0: cmd 0x1: -ENODEV",
		"vfs_poll /dev/char/240:0: mask 0x18",
		"__fput /dev/char/240:0: release 0",
	}, trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(chardev.Kind))))
	_, err = chardev.OpenDevt(sys, devt)
	assert.ErrorIs(t, err, chardev.ErrNoDeviceOrAddress)
}

// Without an Active, the same driver embedding its cdev in memory it
// frees after cdev_del is the classic bug: the file's last fput touches
// the freed memory.
func TestEmbeddedCdevFreedUnderOpenFile(t *testing.T) {
	sys := newSystem(t)
	e := &echo{}
	mem := sys.Memory().Alloc("struct echo_dev")
	var cdev chardev.Cdev
	cdev.Init(sys, e.fops())
	cdev.EmbedIn(mem)
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 1))
	f, err := chardev.OpenDevt(sys, devt)
	require.NoError(t, err)
	cdev.Del()
	mem.Free()
	require.NoError(t, f.Close())
	kept := sys.Memory().Reports()
	require.Len(t, kept, 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", kept[0].Title)
}

// A revoke waits for the driver's operations in flight, and a second
// revoke waits for the first; an operation that starts meanwhile is
// refused.
func TestActiveRevokeWaitsForCalls(t *testing.T) {
	sys := newSystem(t)
	inside, leave := make(chan struct{}), make(chan struct{})
	released := 0
	a := chardev.NewActive(sys, "slow0", &chardev.FileOperations{
		Read: func(*chardev.File, int) ([]byte, error) {
			close(inside)
			<-leave
			return []byte("late"), nil
		},
		Release: func(*chardev.File) error { released++; return nil },
	})
	cdev := chardev.CdevAlloc(sys, a.Fops())
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 1))
	f, err := chardev.OpenDevt(sys, devt)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var got []byte
	wg.Go(func() { got, _ = f.Read(4) })
	<-inside
	assert.Equal(t, 1, a.Calls())
	revoked := make(chan struct{}, 2)
	for range 2 {
		wg.Go(func() { a.Revoke(); revoked <- struct{}{} })
	}
	require.Eventually(t, a.Revoked, 5*time.Second, time.Millisecond)
	select {
	case <-revoked:
		t.Fatal("a revoke returned while a read was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	_, err = f.Read(4)
	assert.ErrorIs(t, err, chardev.ErrNoDevice, "refused while the revoke drains")
	assert.Equal(t, 0, released, "no release while the read is in the driver")
	close(leave)
	wg.Wait()
	assert.Equal(t, "late", string(got))
	assert.Equal(t, 1, released)
	assert.Equal(t, 0, a.Calls())
	require.NoError(t, f.Close())
	assert.Equal(t, 1, released)
	cdev.Del()
}

// The proxy keeps the driver's missing operations missing (the VFS
// answers for them); an open refused by the driver is not tracked; an
// open after the revoke is refused before the driver sees it.
func TestActiveProxy(t *testing.T) {
	sys := newSystem(t)
	opens := 0
	a := chardev.NewActive(sys, "ro0", &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			if opens++; opens == 1 {
				return fmt.Errorf("busy: %w", chardev.ErrBusy)
			}
			return nil
		},
	})
	p := a.Fops()
	assert.Nil(t, p.Read)
	assert.Nil(t, p.Write)
	assert.Nil(t, p.UnlockedIoctl)
	assert.Nil(t, p.Mmap)
	assert.Nil(t, p.Poll)
	assert.Nil(t, p.Flush)
	cdev := chardev.CdevAlloc(sys, p)
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 1))
	_, err := chardev.OpenDevt(sys, devt)
	require.ErrorIs(t, err, chardev.ErrBusy)
	assert.Equal(t, 0, a.Files())
	f, err := chardev.OpenDevt(sys, devt)
	require.NoError(t, err)
	_, err = f.Read(1)
	assert.ErrorIs(t, err, chardev.ErrInvalid, "no read operation: the VFS's -EINVAL")
	a.Revoke()
	_, err = chardev.OpenDevt(sys, devt)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	assert.Equal(t, 2, opens, "the driver never saw the refused open")
	require.NoError(t, f.Close())
	cdev.Del()
}

// A driver operation that revokes its own Active would wait for itself:
// it is reported, and the revoke waits for the other calls only.
func TestActiveRevokeFromOwnOperation(t *testing.T) {
	sys := newSystem(t)
	var a *chardev.Active
	a = chardev.NewActive(sys, "self0", &chardev.FileOperations{
		UnlockedIoctl: func(*chardev.File, uint, any) (int, error) {
			a.Revoke()
			return 0, nil
		},
	})
	cdev := chardev.CdevAlloc(sys, a.Fops())
	devt := device.MkDev(240, 0)
	require.NoError(t, cdev.Add(devt, 1))
	f, err := chardev.OpenDevt(sys, devt)
	require.NoError(t, err)
	_, err = f.Ioctl(7, nil)
	require.NoError(t, err)
	kept, _ := sys.Env().Reports()
	require.Len(t, kept, 1)
	assert.Equal(t, "BUG: cdev_revoke self0 from inside one of its own file operations", kept[0].Title)
	assert.Equal(t, env.BugLockdep, kept[0].Kind)
	require.NoError(t, f.Close())
	cdev.Del()
}

// A read racing cdev_del under the explorer: the driver frees its state
// as soon as cdev_del returns, and no interleaving reaches it afterwards;
// a reader stuck in the driver is waited for, and one that arrives later
// is refused.
func TestActiveReadVsDelExhaustive(t *testing.T) {
	var systems []*drvsim.System
	defer func() {
		for _, s := range systems {
			s.Close()
		}
	}()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 20000, Config: sim.EnvConfig(t.Name(), 1)}, func(s *sim.Sim) {
		sys := drvsim.NewSystem(drvsim.OnSim(s))
		systems = append(systems, sys)
		state := sys.Memory().Alloc("struct dev_state")
		a := chardev.NewActive(sys, "dev0", &chardev.FileOperations{
			Read: func(f *chardev.File, n int) ([]byte, error) {
				state.Access("dev_read")
				s.CondResched("dev_read: the hardware")
				state.Access("dev_read")
				return []byte("x"), nil
			},
			Release: func(*chardev.File) error { state.Access("dev_release"); return nil },
		})
		var cdev chardev.Cdev
		cdev.Init(sys, a.Fops())
		cdev.EmbedIn(state)
		devt := device.MkDev(240, 0)
		if err := cdev.Add(devt, 1); err != nil {
			panic(err)
		}
		f, err := chardev.OpenDevt(sys, devt)
		if err != nil {
			panic(err)
		}
		s.Go("reader", func() {
			for range 2 {
				if _, err := f.Read(1); err != nil && !errors.Is(err, chardev.ErrNoDevice) {
					panic(err)
				}
			}
			if err := f.Close(); err != nil {
				panic(err)
			}
		})
		s.Go("remove", func() {
			cdev.Del()
			state.Free()
		})
	})
	require.False(t, res.Failed(), res.String())
	require.True(t, res.Exhausted)
	t.Log(res)
}
