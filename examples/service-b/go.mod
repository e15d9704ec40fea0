module example.com/service-b

go 1.26
