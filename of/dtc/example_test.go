package dtc_test

import (
	"fmt"

	"github.com/drvsim/drvsim/of/dtc"
)

// Parse a board and look at a node: its path, its compatible strings and
// the phandle the reference to it got.
func ExampleParse() {
	src := `/dts-v1/;
/ {
	osc: oscillator { compatible = "fixed-clock"; #clock-cells = <0>; };
	uart { compatible = "acme,uart"; clocks = <&osc>; };
};`
	tree, err := dtc.Parse("board.dts", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	osc := tree.Label("osc")
	compat, _ := osc.Prop("compatible").Strings()
	fmt.Println(osc.Path(), compat, osc.Phandle)
	fmt.Println(dtc.FormatValue(tree.Lookup("/uart").Prop("clocks").Value, nil))

	_, err = dtc.Parse("bad.dts", []byte("/dts-v1/;\n/ {\n\tclocks = <&nosuch>;\n};"))
	fmt.Println(err)
	// Output:
	// /oscillator [fixed-clock] 1
	// <0x1>
	// bad.dts:3:12: /: Reference to non-existent node or label "nosuch"
}
