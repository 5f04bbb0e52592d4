package main

import (
	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// This file is the simulated hardware, not driver code: the EC chip, and
// the board that wires it to an interrupt line and declares its platform
// device. On a real machine the firmware (device tree, ACPI) describes
// the board, and the driver finds the chip's registers and interrupt in
// the device's resources; here the platform data carries them.

// ecPlatformData is what the board tells the driver about one EC
// (dev_get_platdata): its interrupt line, and the chip behind its
// register window.
type ecPlatformData struct {
	IRQ  int
	Chip *ecChip
}

// ecChip is the EC's silicon. Its registers: VERSION (the firmware), CMD
// (writing a command runs it), STATUS ("DONE" once an answer is in;
// reading it acknowledges the interrupt) and DATA (the answer). When a
// command is done, it raises its interrupt line.
type ecChip struct {
	board        env.Host // the machine it is soldered into
	irq          int      // the line it raises
	firmware     string
	status, data string
}

// read is a bus read of register reg.
func (c *ecChip) read(reg string) string {
	switch reg {
	case "VERSION":
		return c.firmware
	case "STATUS":
		s := c.status
		c.status = ""
		return s
	case "DATA":
		return c.data
	}
	return ""
}

// write is a bus write of val to register reg. The firmware answers a
// command at once: the temperature for "TEMP", "?" for anything else.
func (c *ecChip) write(reg, val string) {
	if reg != "CMD" {
		return
	}
	c.data = "?"
	if val == "TEMP" {
		c.data = "42"
	}
	c.status = "DONE"
	if err := kernel.RaiseIRQ(c.board, c.irq); err != nil {
		panic(err)
	}
}

// plugEC puts an EC on the board: a chip running firmware, wired to
// interrupt line irq, and its platform device named name, registered
// (platform_device_register): if the driver is loaded, it probes now.
func plugEC(sys *drvsim.System, name, firmware string, irq int) (*device.Device, error) {
	chip := &ecChip{board: sys, irq: irq, firmware: firmware}
	dev := sys.NewPlatformDevice(name, device.WithPlatformData(&ecPlatformData{IRQ: irq, Chip: chip}))
	return dev, sys.RegisterDevice(dev)
}
