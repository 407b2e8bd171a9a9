from omniroute.cli import app

app()
