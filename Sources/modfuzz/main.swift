print("modfuzz")
