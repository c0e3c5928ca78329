//go:build !race

package secmedia

const raceEnabled = false
