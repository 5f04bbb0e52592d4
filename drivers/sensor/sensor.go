package sensor

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
)

// Variant names one of the four drivers.
type Variant string

// The variants.
const (
	Refcounted Variant = "sensor-refcounted"
	Revocable  Variant = "sensor-revocable"
	Drain      Variant = "sensor-drain"
	DevmCdev   Variant = "sensor-devm-cdev"
)

// Variants lists the four variants, correct ones first.
var Variants = []Variant{Refcounted, Revocable, Drain, DevmCdev}

// Node is the device node of the first sensor.
const Node = "/dev/sensor0"

// Module is the loaded driver: its class, its device numbers and its
// platform driver.
type Module struct {
	v     Variant
	core  *bus.Core
	class *chardev.Class
	devt  device.DevT
	drv   *driver.Driver
}

// hw is the hardware the revocable variants hand out.
type hw struct{ regs *env.Object }

// sensor is the driver's per-device state: struct sensor.
type sensor struct {
	obj  *env.Object  // struct sensor (Refcounted, Drain, DevmCdev)
	cdev chardev.Cdev // embedded (Refcounted, Drain, DevmCdev)
	ac   *chardev.Cdev
	dev  *device.Device // the class device (Refcounted)
	regs *env.Object    // the registers, unmapped by devres at unbind
	mu   *kernel.Mutex
	gone bool // guarded by mu (Refcounted)
	prov *revocable.Provider[hw]
}

// Init is the module's init on machine m: class_create("sensor"),
// alloc_chrdev_region for one number, platform_driver_register of the
// variant's driver.
func Init(m bus.Machine, v Variant) (*Module, error) {
	switch v {
	case Refcounted, Revocable, Drain, DevmCdev:
	default:
		return nil, fmt.Errorf("sensor: unknown variant %q: %w", v, device.ErrInvalid)
	}
	mod := &Module{v: v, core: m.DriverCore()}
	var err error
	if mod.class, err = chardev.CreateClass(m, "sensor"); err != nil {
		return nil, err
	}
	if mod.devt, err = chardev.AllocRegion(m, 0, 1, "sensor"); err != nil {
		_ = mod.class.Destroy()
		return nil, err
	}
	mod.drv = platform.NewDriver("sensor", mod.probe, mod.remove)
	if err := mod.core.RegisterDriver(mod.drv); err != nil {
		chardev.UnregisterRegion(m, mod.devt, 1)
		_ = mod.class.Destroy()
		return nil, err
	}
	return mod, nil
}

// Devt returns the number of /dev/sensor0.
func (mod *Module) Devt() device.DevT { return mod.devt }

// Driver returns the platform driver.
func (mod *Module) Driver() *driver.Driver { return mod.drv }

func (mod *Module) probe(pdev *device.Device) error {
	mem := pdev.Env().Memory()
	s := &sensor{mu: kernel.NewMutex(pdev, "sensor lock"), regs: mem.Alloc("sensor regs")}
	if _, err := pdev.Devres().AddOrReset("iounmap sensor regs", s.regs.Free); err != nil {
		return err
	}
	if mod.v == Revocable || mod.v == DevmCdev {
		var err error
		if s.prov, err = revocable.DevmProvider(pdev, &hw{regs: s.regs}, revocable.WithName("sensor")); err != nil {
			return err
		}
	}
	switch mod.v {
	case Refcounted:
		s.obj = mem.Alloc("struct sensor")
		s.cdev.Init(pdev, s.refcountedFops())
		s.cdev.EmbedIn(s.obj)
		s.dev = device.New("sensor0", device.WithClass(mod.class), device.WithDevt(mod.devt), device.WithParent(pdev),
			device.WithRelease(func(*device.Device) { s.obj.Free() }))
		if err := mod.core.InitializeDevice(s.dev); err != nil {
			return err
		}
		if err := s.cdev.DeviceAdd(s.dev); err != nil {
			_ = s.dev.Put()
			return err
		}
	case Revocable:
		s.ac = chardev.CdevAlloc(pdev, s.revocableFops())
		if err := s.ac.Add(mod.devt, 1); err != nil {
			return err
		}
		if _, err := mod.class.CreateDevice(pdev, mod.devt, s, "sensor0"); err != nil {
			s.ac.Del()
			return err
		}
	case Drain, DevmCdev:
		s.obj = mem.Alloc("struct sensor")
		// devm_kzalloc: the struct that embeds the cdev is freed at unbind,
		// whatever files are open.
		if _, err := pdev.Devres().AddOrReset("devm_kfree struct sensor", s.obj.Free); err != nil {
			return err
		}
		fops := s.revocableFops()
		if mod.v == Drain {
			// Plain file operations, under active references that cdev_del
			// revokes: no file reaches the struct or the registers after.
			fops = chardev.NewActive(pdev, "sensor0", s.plainFops()).Fops()
		}
		s.cdev.Init(pdev, fops)
		s.cdev.EmbedIn(s.obj)
		if err := s.cdev.Add(mod.devt, 1); err != nil {
			return err
		}
		if _, err := mod.class.CreateDevice(pdev, mod.devt, s, "sensor0"); err != nil {
			s.cdev.Del()
			return err
		}
	}
	pdev.SetDrvdata(s)
	return nil
}

func (mod *Module) remove(pdev *device.Device) {
	s := pdev.Drvdata().(*sensor)
	switch mod.v {
	case Refcounted:
		s.cdev.DeviceDel(s.dev)
		s.mu.Lock()
		s.obj.Access("sensor_remove: s->gone = true")
		s.gone = true
		s.mu.Unlock()
		_ = s.dev.Put() // the probe's reference; open files hold theirs through the cdev
	case Revocable:
		mod.class.DestroyDevice(mod.devt)
		s.ac.Del()
	case Drain, DevmCdev:
		mod.class.DestroyDevice(mod.devt)
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

// plainFops: no check at all; the Drain variant runs them under active
// references (chardev.Active), which cdev_del revokes.
func (s *sensor) plainFops() *chardev.FileOperations {
	return &chardev.FileOperations{
		Read: func(f *chardev.File, n int) ([]byte, error) {
			s.obj.Access("sensor_read: s->regs")
			kernel.CondResched(f, "sensor_read: between register reads")
			s.regs.Access("sensor_read: readl")
			return make([]byte, min(n, 4)), nil
		},
		Release: func(*chardev.File) error {
			s.obj.Access("sensor_release")
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
			err := f.Private.(*revocable.Consumer[hw]).OrReturn(func(h *hw) error {
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
			return f.Private.(*revocable.Consumer[hw]).Close()
		},
	}
}
