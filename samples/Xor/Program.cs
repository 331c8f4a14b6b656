System.Console.WriteLine("xor");
