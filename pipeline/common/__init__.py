"""What every stage uses and none owns: the error type and its formatting, guarded file reading and
atomic writing, the YAML reader, the command line's defaults and limits, the build lock, and work spread
over threads. Standard library and PyYAML only: nothing here knows a stage."""
