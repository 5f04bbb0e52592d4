package board

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/revocable"
)

// SensorModel is a sensor compatible's match data: which chip it is.
type SensorModel struct {
	// Name is the chip's name.
	Name string
	// MilliCelsius is the reading the chip gives.
	MilliCelsius int32
}

// sensorModels are the sensor driver's match table: the specific chip
// first, the generic compatible after; of_match_device takes the best
// score for the node's compatible list, whatever the order here.
var sensorModels = []driver.OFDeviceID{
	{Compatible: "acme,sensor", Data: &SensorModel{Name: "generic sensor", MilliCelsius: 25000}},
	{Compatible: "acme,tmp117", Data: &SensorModel{Name: "tmp117", MilliCelsius: 21500}},
}

// sensorHW is the chip's state the file operations reach through the
// sensor's revocable provider: gone once the driver unbinds.
type sensorHW struct {
	model   *SensorModel
	regs    *env.Object // the mapped registers, unmapped by devres
	vdd     *revocable.Consumer[Regulator]
	samples *kernel.SpinLock
	count   int
}

// sensor is the driver's per-device state.
type sensor struct {
	b     *Board
	minor int
	cdev  *chardev.Cdev
	prov  *revocable.Provider[sensorHW]
}

// sensorDriver is the temperature sensor: its probe gets the regulator
// (devm_regulator_get), maps its registers, requests its interrupt
// (platform_get_irq, devm_request_irq) and publishes /dev/sensorN, whose
// file operations run inside the sensor's revocable read section: after
// unbind they answer -ENODEV.
func (b *Board) sensorDriver() *driver.Driver {
	return ofDriver("acme-sensor", sensorModels, b.sensorProbe, b.sensorRemove)
}

func (b *Board) sensorProbe(dev *device.Device) error {
	model, _ := of.DeviceGetMatchData(dev).(*SensorModel)
	if model == nil {
		return fmt.Errorf("sensor %s: no match data: %w", dev.Path(), device.ErrNoDevice)
	}
	vdd, err := RegulatorGet(dev, "vdd")
	if err != nil {
		return err
	}
	irq, err := ofplatform.GetIRQ(dev, 0)
	if err != nil {
		return err
	}
	hw := &sensorHW{model: model, vdd: vdd, regs: dev.Env().Memory().Alloc("sensor regs"),
		samples: kernel.NewSpinLock(dev, "sensor samples")}
	if _, err := dev.Devres().AddOrReset("devm_iounmap sensor regs", hw.regs.Free); err != nil {
		return err
	}
	handler := func(int, any) kernel.IRQReturn {
		f := hw.samples.LockIRQSave()
		hw.count++
		hw.samples.UnlockIRQRestore(f)
		return kernel.IRQHandled
	}
	if err := kernel.DevmRequestIRQ(dev, irq, handler, 0, "acme-sensor", hw); err != nil {
		return err
	}
	s := &sensor{b: b, minor: -1}
	if s.prov, err = revocable.DevmProvider(dev, hw, revocable.WithName("sensor "+dev.Name())); err != nil {
		return err
	}
	b.mu.Lock()
	for i, used := range b.minors {
		if !used {
			s.minor = i
			b.minors[i] = true
			break
		}
	}
	b.mu.Unlock()
	if s.minor < 0 {
		return fmt.Errorf("sensor %s: no free minor: %w", dev.Path(), device.ErrNoSpace)
	}
	devt := device.MkDev(b.base.Major(), b.base.Minor()+uint32(s.minor))
	s.cdev = chardev.CdevAlloc(dev, s.fops())
	if err := s.cdev.Add(devt, 1); err != nil {
		b.freeMinor(s.minor)
		return err
	}
	if _, err := b.class.CreateDevice(dev, devt, s, "sensor%d", s.minor); err != nil {
		s.cdev.Del()
		b.freeMinor(s.minor)
		return err
	}
	dev.SetDrvdata(s)
	kernel.DevInfo(dev, "%s on irq %d, /dev/sensor%d", model.Name, irq, s.minor)
	return nil
}

func (b *Board) sensorRemove(dev *device.Device) {
	s, ok := dev.Drvdata().(*sensor)
	if !ok {
		return
	}
	devt := device.MkDev(b.base.Major(), b.base.Minor()+uint32(s.minor))
	b.class.DestroyDevice(devt)
	s.cdev.Del()
	b.freeMinor(s.minor)
}

func (b *Board) freeMinor(m int) {
	b.mu.Lock()
	b.minors[m] = false
	b.mu.Unlock()
}

// fops are the sensor file's operations: each inside the sensor's read
// section, and the regulator's (or, with Board.UnsafeReads, not).
func (s *sensor) fops() *chardev.FileOperations {
	prov := s.prov
	if s.b.UnsafeReads {
		return s.unsafeFops()
	}
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
			c := f.Private.(*revocable.Consumer[sensorHW])
			var out []byte
			err := c.OrReturn(func(hw *sensorHW) error {
				return hw.vdd.OrReturn(func(r *Regulator) error {
					if s.b.SampleHook != nil {
						s.b.SampleHook()
					}
					hw.regs.Access("sensor_read: readl TEMP")
					out = binary.BigEndian.AppendUint32(nil, uint32(hw.model.MilliCelsius))
					return nil
				})
			})
			if errors.Is(err, revocable.ErrRevoked) {
				return nil, fmt.Errorf("sensor_read: %w (%w)", chardev.ErrNoDevice, err)
			}
			if err != nil {
				return nil, err
			}
			return out[:min(n, len(out))], nil
		},
		Release: func(f *chardev.File) error {
			return f.Private.(*revocable.Consumer[sensorHW]).Close()
		},
	}
}

// unsafeFops keep the chip's state from open on and read it without a
// read section: the bug Board.UnsafeReads asks for.
func (s *sensor) unsafeFops() *chardev.FileOperations {
	prov := s.prov
	return &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			c, err := revocable.New(prov)
			if err != nil {
				return fmt.Errorf("sensor_open: %w (%w)", chardev.ErrNoDevice, err)
			}
			hw, a := c.TryAccess()
			if hw != nil {
				f.Private = hw // BUG: the pointer outlives the read section
				a.Release()
			}
			_ = c.Close()
			if hw == nil {
				return fmt.Errorf("sensor_open: %w", chardev.ErrNoDevice)
			}
			return nil
		},
		Read: func(f *chardev.File, n int) ([]byte, error) {
			hw := f.Private.(*sensorHW)
			if s.b.SampleHook != nil {
				s.b.SampleHook()
			}
			hw.regs.Access("sensor_read: readl TEMP")
			out := binary.BigEndian.AppendUint32(nil, uint32(hw.model.MilliCelsius))
			return out[:min(n, len(out))], nil
		},
	}
}

// Samples returns how many interrupts the sensor bound to dev has taken.
func Samples(dev *device.Device) int {
	s, ok := dev.Drvdata().(*sensor)
	if !ok {
		return 0
	}
	n := 0
	_ = revocableWith(s.prov, func(hw *sensorHW) {
		f := hw.samples.LockIRQSave()
		n = hw.count
		hw.samples.UnlockIRQRestore(f)
	})
	return n
}

func revocableWith(p *revocable.Provider[sensorHW], fn func(*sensorHW)) error {
	c, err := revocable.New(p)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.OrReturn(func(hw *sensorHW) error {
		if hw != nil {
			fn(hw)
		}
		return nil
	})
}
