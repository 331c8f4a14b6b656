// The library's own code reads its data types without qualification; users write "using Backprop.Data;".
global using Backprop.Data;
