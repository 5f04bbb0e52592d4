package chardev_test

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
)

// sensorVariant is how the test's platform "sensor" driver ties its
// character device to its state.
type sensorVariant int

const (
	// refcounted is the kernel's recommended pattern: the driver's struct
	// embeds the cdev and the class device, cdev_device_add makes the cdev
	// hold the device, the struct is freed by the device's release; the
	// file operations check a gone flag under the driver's mutex.
	refcounted sensorVariant = iota
	// revocableFops: a cdev_alloc'ed cdev with its own lifetime; the
	// hardware behind a devm revocable provider, every file operation
	// inside Consumer.OrReturn.
	revocableFops
	// devmCdev is the classic bug: the struct embedding the cdev is
	// devm-allocated, so it is freed at unbind while a file still holds
	// the cdev; the file operations are safe (revocable), but the last
	// fput's cdev_put touches the freed struct.
	devmCdev
)

func (v sensorVariant) String() string {
	return [...]string{"refcounted", "revocable-fops", "devm-embedded-cdev"}[v]
}

// sensorHW is the hardware the revocable variants hand out.
type sensorHW struct{ regs *env.Object }

// sensor is the driver's per-device state.
type sensor struct {
	obj  *env.Object  // struct sensor (refcounted, devmCdev); nil for revocableFops
	cdev chardev.Cdev // embedded (refcounted, devmCdev)
	ac   *chardev.Cdev
	dev  *device.Device // the class device
	regs *env.Object    // the registers, unmapped by devres at unbind
	mu   *kernel.Mutex
	gone bool // guarded by mu (refcounted)
	prov *revocable.Provider[sensorHW]
}

// sensorRig is one machine with the sensor driver bound to platform
// device "sensor" and its /dev/sensor0.
type sensorRig struct {
	sys   *drvsim.System
	pdev  *device.Device
	class *chardev.Class
	devt  device.DevT
}

// newSensorRig builds the machine on opts (drvsim.OnSim for a run).
func newSensorRig(v sensorVariant, opts ...drvsim.Option) (*sensorRig, error) {
	sys := drvsim.NewSystem(opts...)
	r := &sensorRig{sys: sys}
	var err error
	if r.class, err = chardev.CreateClass(sys, "sensor"); err != nil {
		return nil, err
	}
	if r.devt, err = chardev.AllocRegion(sys, 0, 1, "sensor"); err != nil {
		return nil, err
	}
	drv := platform.NewDriver("sensor", func(pdev *device.Device) error { return r.probe(v, pdev) },
		func(pdev *device.Device) { r.remove(v, pdev) })
	if err := sys.RegisterDriver(drv); err != nil {
		return nil, err
	}
	r.pdev = sys.NewPlatformDevice("sensor")
	if err := sys.RegisterDevice(r.pdev); err != nil {
		return nil, err
	}
	if r.pdev.Drvdata() == nil {
		return nil, errors.New("sensor: not bound")
	}
	return r, nil
}

func (r *sensorRig) probe(v sensorVariant, pdev *device.Device) error {
	mem := pdev.Env().Memory()
	s := &sensor{mu: kernel.NewMutex(pdev, "sensor lock"), regs: mem.Alloc("sensor regs")}
	if _, err := pdev.Devres().AddOrReset("iounmap sensor regs", s.regs.Free); err != nil {
		return err
	}
	if v != refcounted {
		var err error
		if s.prov, err = revocable.DevmProvider(pdev, &sensorHW{regs: s.regs}, revocable.WithName("sensor")); err != nil {
			return err
		}
	}
	switch v {
	case refcounted:
		s.obj = mem.Alloc("struct sensor")
		s.cdev.Init(pdev, s.refcountedFops())
		s.cdev.EmbedIn(s.obj)
		s.dev = device.New("sensor0", device.WithClass(r.class), device.WithDevt(r.devt), device.WithParent(pdev),
			device.WithRelease(func(*device.Device) { s.obj.Free() }))
		if err := r.sys.InitializeDevice(s.dev); err != nil {
			return err
		}
		if err := s.cdev.DeviceAdd(s.dev); err != nil {
			_ = s.dev.Put()
			return err
		}
	case revocableFops:
		s.ac = chardev.CdevAlloc(pdev, s.revocableFops())
		if err := s.ac.Add(r.devt, 1); err != nil {
			return err
		}
		if _, err := r.class.CreateDevice(pdev, r.devt, s, "sensor0"); err != nil {
			s.ac.Del()
			return err
		}
	case devmCdev:
		s.obj = mem.Alloc("struct sensor")
		// BUG: devm_kzalloc: the struct that embeds the cdev is freed at
		// unbind, whatever files are open.
		if _, err := pdev.Devres().AddOrReset("devm_kfree struct sensor", s.obj.Free); err != nil {
			return err
		}
		s.cdev.Init(pdev, s.revocableFops())
		s.cdev.EmbedIn(s.obj)
		if err := s.cdev.Add(r.devt, 1); err != nil {
			return err
		}
		if _, err := r.class.CreateDevice(pdev, r.devt, s, "sensor0"); err != nil {
			s.cdev.Del()
			return err
		}
	}
	pdev.SetDrvdata(s)
	return nil
}

func (r *sensorRig) remove(v sensorVariant, pdev *device.Device) {
	s := pdev.Drvdata().(*sensor)
	switch v {
	case refcounted:
		s.cdev.DeviceDel(s.dev)
		s.mu.Lock()
		s.obj.Access("sensor_remove: s->gone = true")
		s.gone = true
		s.mu.Unlock()
		_ = s.dev.Put() // the probe's reference; open files hold theirs through the cdev
	case revocableFops:
		r.class.DestroyDevice(r.devt)
		s.ac.Del()
	case devmCdev:
		r.class.DestroyDevice(r.devt)
		s.cdev.Del()
	}
}

// refcountedFops: every operation checks s->gone under the mutex.
func (s *sensor) refcountedFops() *chardev.FileOperations {
	return &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			s.obj.Access("sensor_open: container_of(inode->i_cdev)")
			f.Private = s
			return nil
		},
		Read: func(f *chardev.File, n int) ([]byte, error) {
			s := f.Private.(*sensor)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.obj.Access("sensor_read: s->gone")
			if s.gone {
				return nil, fmt.Errorf("sensor_read: %w", chardev.ErrNoDevice)
			}
			kernel.CondResched(f, "sensor_read: between register reads")
			s.regs.Access("sensor_read: readl")
			return make([]byte, min(n, 4)), nil
		},
		Release: func(f *chardev.File) error {
			f.Private.(*sensor).obj.Access("sensor_release")
			return nil
		},
	}
}

// revocableFops: every operation inside the consumer's read section.
func (s *sensor) revocableFops() *chardev.FileOperations {
	prov := s.prov
	return &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			c, err := revocable.New(prov)
			if err != nil {
				return fmt.Errorf("sensor_open: %w (%w)", chardev.ErrNoDevice, err)
			}
			f.Private = c
			return nil
		},
		Read: func(f *chardev.File, n int) ([]byte, error) {
			err := f.Private.(*revocable.Consumer[sensorHW]).OrReturn(func(h *sensorHW) error {
				kernel.CondResched(f, "sensor_read: between register reads")
				h.regs.Access("sensor_read: readl")
				return nil
			})
			if errors.Is(err, revocable.ErrRevoked) {
				return nil, fmt.Errorf("sensor_read: %w (%w)", chardev.ErrNoDevice, err)
			}
			return make([]byte, min(n, 4)), err
		},
		Release: func(f *chardev.File) error {
			return f.Private.(*revocable.Consumer[sensorHW]).Close()
		},
	}
}
