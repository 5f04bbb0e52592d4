package chardev_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/sim"
)

// readVsUnbind is a sim scenario on the sensor: task "reader" reads the
// open /dev/sensor0 (data, or -ENODEV once the device is gone) and closes
// it; task "unbind" removes the platform device (the driver's remove
// deletes the cdev and the node, then devres frees). The Sim checks every
// access for use after free and every allocation for a leak.
type readVsUnbind struct {
	v    sensorVariant
	rigs []*sensorRig
}

func (sc *readVsUnbind) close() {
	for _, r := range sc.rigs {
		r.sys.Close()
	}
	sc.rigs = nil
}

func (sc *readVsUnbind) scenario(s *sim.Sim) {
	r, err := newSensorRig(sc.v, drvsim.OnSim(s))
	if err != nil {
		panic(err)
	}
	sc.rigs = append(sc.rigs, r)
	f, err := chardev.Open(r.sys, "/dev/sensor0")
	if err != nil {
		panic(err)
	}
	s.Go("reader", func() {
		if _, err := f.Read(4); err != nil && !errors.Is(err, chardev.ErrNoDevice) {
			panic(fmt.Sprintf("read: want data or -ENODEV, got %v", err))
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
	})
	s.Go("unbind", func() {
		if err := r.sys.UnregisterDevice(r.pdev); err != nil {
			panic(err)
		}
		if _, err := chardev.Open(r.sys, "/dev/sensor0"); !errors.Is(err, chardev.ErrNoEntry) {
			panic(fmt.Sprintf("open after unbind: want -ENOENT, got %v", err))
		}
		if _, err := chardev.OpenDevt(r.sys, r.devt); !errors.Is(err, chardev.ErrNoDeviceOrAddress) {
			panic(fmt.Sprintf("open by number after cdev_del: want -ENXIO, got %v", err))
		}
	})
}

func (sc *readVsUnbind) explore(t *testing.T) *sim.ExploreResult {
	t.Helper()
	defer sc.close()
	return sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 200000, MaxPreemptions: 3, Config: sim.EnvConfig(t.Name(), 0)}, sc.scenario)
}

// cdev_del racing a read of an open file: with the cdev and the state
// refcounted (cdev_device_add) or the file operations on revocable, every
// interleaving within 3 preemptions is clean: no use after free, no leak
// (214 and 345 schedules; without the bound, 1401 and 6433).
func TestReadVsUnbindExhaustive(t *testing.T) {
	for _, v := range []sensorVariant{refcounted, revocableFops} {
		t.Run(v.String(), func(t *testing.T) {
			res := (&readVsUnbind{v: v}).explore(t)
			require.False(t, res.Failed(), "%s", res)
			assert.True(t, res.Exhausted)
			t.Logf("%s: %s", v, res)
		})
	}
}

// The struct embedding the cdev is devm-allocated: the exploration finds
// the file's last fput touching it after unbind freed it, as KASAN
// reports it, even though every file operation is safe.
func TestDevmEmbeddedCdevUseAfterFree(t *testing.T) {
	res := (&readVsUnbind{v: devmCdev}).explore(t)
	require.True(t, res.Failed(), "the devm-embedded cdev must be caught")
	f := res.Failure.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", f.Title)
	assert.Contains(t, f.Details, "freed object struct sensor")
	assert.Contains(t, f.Details, "Freed by task unbind")
	t.Logf("%s", res)
}

// The same three drivers on plain goroutines, unbound while the file is
// open, then the file is read and closed: the refcounted and revocable
// drivers answer -ENODEV and free everything at the close; the
// devm-embedded cdev is reported at the close's cdev_put, and the machine
// goes on.
func TestUnbindWithFileOpenPlain(t *testing.T) {
	for _, v := range []sensorVariant{refcounted, revocableFops, devmCdev} {
		t.Run(v.String(), func(t *testing.T) {
			r, err := newSensorRig(v)
			require.NoError(t, err)
			defer r.sys.Close()
			f, err := chardev.Open(r.sys, "/dev/sensor0")
			require.NoError(t, err)
			_, err = f.Read(4)
			require.NoError(t, err)
			require.NoError(t, r.sys.UnregisterDevice(r.pdev))
			_, err = f.Read(4)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			require.NoError(t, f.Close())
			reports := r.sys.Memory().Reports()
			if v == devmCdev {
				require.Len(t, reports, 1)
				assert.Equal(t, "BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)", reports[0].Title)
			} else {
				assert.Empty(t, reports)
			}
			assert.Empty(t, r.sys.Memory().Leaks())
		})
	}
}
