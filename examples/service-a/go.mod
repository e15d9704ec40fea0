module example.com/service-a

go 1.26
