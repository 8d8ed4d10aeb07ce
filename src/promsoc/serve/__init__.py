"""`promsoc serve`: the console over SSH and in a browser, every viewer sharing one evaluation."""
